import { describe, expect, it } from "vitest";
import { buildBundle, config, image, opts, root0, run } from "./verifier-fixtures.js";
import { VerifyEvent } from "../device-sim/core/bundle-verifier.js";

describe("round trip", () => {
  it("Sign1 root-signed", async () => {
    const img = image(1000);
    const b = await buildBundle(img, opts(), [root0]);
    const r = run(b);
    expect(r.reason).toBe("OK");
    expect(r.events).toEqual([VerifyEvent.ENVELOPE, 2, 2, 2, 2, VerifyEvent.DONE]);
    expect(r.data).toEqual(img);
  });
});
