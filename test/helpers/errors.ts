// Library calls that must fail: the rejection, checked to be a FwsealError (the one error
// type the library throws, with a code and an exit code).
import { expect } from "vitest";
import { FwsealError } from "../../host/errors.js";

/** Awaits `p`, which must reject with a FwsealError; returns that error. */
export async function fwsealRejection(p: Promise<unknown>): Promise<FwsealError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x
  );
  expect(e).toBeInstanceOf(FwsealError);
  return e as FwsealError;
}
