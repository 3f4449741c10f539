// fwseal extract: write the image only if the whole bundle verifies.
import type { CommandModule } from "yargs";
import { extract } from "../../bundle/extract.js";
import type { VerifyPolicy } from "../../bundle/verify.js";
import { policyOptions, policyFromArgs, reportRejection, type PolicyArgs } from "./verify.js";
import { out, progressBar } from "../output.js";
import { outDocument, verdictDoc } from "../json-document.js";
import { copyFileToStdout, isStdio, refuseStdoutWithJson, stagingPath, stdinPath } from "../stdio-paths.js";
import { refuseDraft } from "../draft-notice.js";
import { FwsealError } from "../../errors.js";
import * as fsp from "node:fs/promises";
import { forceOption } from "../argument-checks.js";

interface Args extends PolicyArgs {
  bundle: string;
  output: string;
  force?: boolean;
  json?: boolean;
}

/** Extract into `output` (the -o file, or the staging file for stdout); true when the bundle verified and the image was written. */
async function extractTo(a: Args, policy: VerifyPolicy, output: string): Promise<boolean> {
  const total = await fsp.stat(a.bundle).then((s) => s.size, () => 0);
  const bar = a.json ? { update: () => undefined, finish: () => undefined } : progressBar("extracting", total);
  let r;
  try {
    r = await extract({ bundle: a.bundle, output, policy, overwrite: !!a.force || isStdio(a.output), onProgress: (d) => bar.update(d) });
  } finally {
    bar.finish();
  }
  if (!r.valid) {
    reportRejection(r, policy, a.bundle, a.json);
    return false;
  }
  if (a.json) outDocument({ file: a.bundle, ...verdictDoc(r), output: r.output });
  else if (!isStdio(a.output)) out(`${a.bundle}: OK; wrote ${r.manifest?.imageSize ?? "?"}-byte image to ${r.output}`);
  return true;
}

const command: CommandModule<object, Args> = {
  command: "extract <bundle>",
  describe: "Verify a bundle and write its image (nothing is written unless all of it verifies)",
  builder: (y) =>
    policyOptions(
      forceOption(y, "Overwrite an existing image file")
        .positional("bundle", { type: "string", demandOption: true, description: "Bundle file" })
        .option("output", { alias: "o", type: "string", demandOption: true, description: "Image file to write, or - for stdout (written only once all of it verified)" })
        .example("$0 extract fw.fwb --root root.pub --vendor acme.example --class sensor-v3 -o fw.bin", "verified image")
        .example("$0 extract fw.fwb --root root.pub --vendor acme.example --class sensor-v3 -o - | dfu-util -D -", "verified image on stdout")
    ) as never,
  handler: async (a) => {
    a.bundle = stdinPath(a.bundle);
    if (isStdio(a.bundle)) throw new FwsealError("USAGE", "extract reads a bundle file (it verifies all of it before writing); to check a stream, use fwseal verify -");
    refuseStdoutWithJson(a.output, a.json);
    await refuseDraft(a.bundle);
    const policy = await policyFromArgs(a);
    // -o -: the image goes to stdout only once all of it verified, so it is staged in a private file first.
    const staging = isStdio(a.output) ? stagingPath("image") : null;
    try {
      const written = await extractTo(a, policy, staging?.file ?? a.output);
      if (staging && written) await copyFileToStdout(staging.file);
    } finally {
      staging?.remove();
    }
  }
};

export default command;
