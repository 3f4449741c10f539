// The library's errors speak of its options, not of the CLI's flags. The shared code below
// the CLI and the library words a few hints for the command line ("use --force to
// overwrite", "run again with --resume"); at the library's front door those hints are
// rewritten to the option that does the same, keeping code, exit code, reason and chunk.
import { FwsealError } from "../errors.js";

/** CLI hint -> the same hint in library terms. */
const HINTS: readonly [RegExp, string][] = [
  [/\(use --force to overwrite\)/g, "(pass overwrite: true to replace it)"],
  [/use a higher --seq, or --force/g, "use a higher sequence, or force: true"],
  [/run again with --resume/g, "flash again with resume: true"],
  [/confirm it \(--confirm\) or reboot it \(--reboot\)/g, "confirm it (confirm: true) or reboot it (reboot: true)"],
  [/by leaving out --hex-gaps refuse/g, "with hexGaps: \"fill\""],
  [/--root is required \(the device's root keys, in slot order\)/g, "policy.roots is required (the device's root keys, in slot order)"],
  // pack's payload options, extract's precursor, signDraft on a finished bundle
  [/--window-bits (\S+): must be 9\.\.15/g, "payload.windowBits $1: must be 9..15"],
  [/\(--delta-from\)/g, "(payload.precursor: loadPrecursor)"],
  [/\(--precursor, the bundle, raw or compressed, or the image the devices run\)/g, "(policy.precursor: loadPrecursor of the bundle, raw or compressed, or the image the devices run)"],
  [/\(make one with fwseal pack --unsigned\)/g, "(make one with createDraft)"],
  // keygenHssLms: the key's parameters
  [/--lms-height (\S+): /g, "heights: $1: "],
  [/--lmots-w (\S+): /g, "w $1: "],
  [/--levels (\S+): /g, "heights: $1 levels: "],
  // pack, finalizeDraft: a refusal that force let through, in their warnings
  [/\(written anyway: --force\)/g, "(written anyway: force: true)"],
  // delegate: its refusal and its warnings of an unbounded certificate
  [/--class names need --vendor/g, "classes given by name need vendor"],
  [/\(no --not-after\)/g, "(no notAfter)"],
  [/\(no --vendor\)/g, "(no vendor)"],
  [/\(no --class\)/g, "(no classes)"]
];

/** `text` (an error message or a warning) with its CLI hints rewritten for library callers. */
export function libraryText(text: string): string {
  let out = text;
  for (const [re, words] of HINTS) out = out.replace(re, words);
  return out;
}

/** `e` with CLI hints in its message rewritten for library callers (other errors unchanged). */
export function inLibraryWords(e: unknown): unknown {
  if (!(e instanceof FwsealError)) return e;
  const message = libraryText(e.message);
  if (message === e.message) return e;
  const reworded = new FwsealError(e.code, message, { exitCode: e.exitCode, reason: e.reason, chunk: e.chunk, cause: e });
  // What an operation attached to its error (flashDevice's flashResult) stays attached.
  for (const [k, v] of Object.entries(e)) if (!(k in reworded)) Object.assign(reworded, { [k]: v });
  return reworded;
}

/** Runs a library operation, rewording its FwsealError (see inLibraryWords). */
export async function withLibraryWords<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw inLibraryWords(e);
  }
}
