// delegate as the library exports it: a certificate file already there is kept unless the
// caller says `overwrite: true` (as pack, extract and the draft functions do), and its
// refusals and warnings name the library's options, not the CLI's flags.
import { delegate as delegateWith, type DelegateOptions as DelegateFields, type DelegateResult } from "../keys/delegate.js";
import { libraryText, withLibraryWords } from "./wording.js";

/** Options of the library's delegate. */
export interface DelegateOptions extends DelegateFields {
  /** Replace an existing `output` (default false: FwsealError OUTPUT_EXISTS). */
  overwrite?: boolean;
}

/** Certifies a release key with a root signer (formats/SPEC.md §5); writes the certificate if `output` is given. */
export async function delegate(opts: DelegateOptions): Promise<DelegateResult> {
  return withLibraryWords(async () => {
    const r = await delegateWith({ ...opts, overwrite: opts.overwrite ?? false });
    return { ...r, warnings: r.warnings.map(libraryText) };
  });
}
