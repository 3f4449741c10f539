// Cancellation for long library operations (pack, verify, flash): a caller's AbortSignal
// becomes one typed error, FwsealError ABORTED, thrown at the next block boundary so that
// the operation's own clean-up (temporary files removed, sessions closed) runs as for any
// other failure.
import { FwsealError } from "../errors.js";

/** Throws FwsealError ABORTED (exit 130) when `signal` has been aborted; `what` names the operation. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, what);
}

/** The error an aborted operation throws: code ABORTED, the signal's reason as its cause. */
export function abortedError(signal: AbortSignal, what: string): FwsealError {
  const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : typeof signal.reason === "string" ? `: ${signal.reason}` : "";
  return new FwsealError("ABORTED", `${what} aborted${why}`, { cause: signal.reason });
}

/** `p`, or FwsealError ABORTED as soon as `signal` aborts (for waits that could last seconds). */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return p;
  throwIfAborted(signal, what);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(signal, what));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      }
    );
  });
}
