// fwseal extract: write the image only if the whole bundle verifies.
import type { CommandModule } from "yargs";
import { extract } from "../../bundle/extract.js";
import { policyOptions, policyFromArgs, reportRejection, type PolicyArgs } from "./verify.js";
import { out, progressBar } from "../output.js";
import { outDocument, verdictDoc } from "../json-document.js";
import * as fsp from "node:fs/promises";
import { forceOption } from "../argument-checks.js";

interface Args extends PolicyArgs {
  bundle: string;
  output: string;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "extract <bundle>",
  describe: "Verify a bundle and write its image (nothing is written unless all of it verifies)",
  builder: (y) =>
    policyOptions(
      forceOption(y, "Overwrite an existing image file")
        .positional("bundle", { type: "string", demandOption: true, description: "Bundle file" })
        .option("output", { alias: "o", type: "string", demandOption: true, description: "Image file to write" })
        .example("$0 extract fw.fwb --root root.pub --vendor acme.example --class sensor-v3 -o fw.bin", "verified image")
    ) as never,
  handler: async (a) => {
    const policy = await policyFromArgs(a);
    const total = await fsp.stat(a.bundle).then((s) => s.size, () => 0);
    const bar = a.json ? { update: () => undefined, finish: () => undefined } : progressBar("extracting", total);
    let r;
    try {
      r = await extract({ bundle: a.bundle, output: a.output, policy, overwrite: !!a.force, onProgress: (d) => bar.update(d) });
    } finally {
      bar.finish();
    }
    if (!r.valid) return reportRejection(r, policy, a.bundle, a.json);
    if (a.json) outDocument({ file: a.bundle, ...verdictDoc(r), output: r.output });
    else out(`${a.bundle}: OK; wrote ${r.manifest?.imageSize ?? "?"}-byte image to ${r.output}`);
  }
};
export default command;
