// delegate as the library exports it: a certificate file already there is kept unless the
// caller says `overwrite: true` (as pack, extract and the draft functions do), and its
// refusals and warnings name the library's options, not the CLI's flags.
import { delegate as delegateWith, type DelegateOptions as DelegateFields, type DelegateResult } from "../keys/delegate.js";
import { libraryText, withLibraryWords } from "./wording.js";
import { checkBytes, checkOptions, checkSigner, checkString } from "./arguments.js";
import { FwsealError } from "../errors.js";

/** Options of the library's delegate. */
export interface DelegateOptions extends DelegateFields {
  /** Replace an existing `output` (default false: FwsealError OUTPUT_EXISTS). */
  overwrite?: boolean;
}

/** Certifies a release key with a root signer (formats/SPEC.md §5); writes the certificate if `output` is given. */
export async function delegate(opts: DelegateOptions): Promise<DelegateResult> {
  checkOptions("delegate", "options", opts);
  checkSigner("delegate", "root", opts.root);
  checkBytes("delegate", "subject", opts.subject, " (the release key's public key: loadPublicKey)");
  checkString("delegate", "vendor", opts.vendor, true);
  checkString("delegate", "output", opts.output, true);
  if (opts.classes !== undefined && !(Array.isArray(opts.classes) && opts.classes.every((c) => typeof c === "string" && c.length > 0))) {
    throw new FwsealError("USAGE", "delegate: classes must be an array of device class names or UUIDs");
  }
  return withLibraryWords(async () => {
    const r = await delegateWith({ ...opts, overwrite: opts.overwrite ?? false });
    return { ...r, warnings: r.warnings.map(libraryText) };
  });
}
