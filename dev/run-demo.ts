// `npm run demo [-- --dir D --line-rate BAUD --image-size BYTES] [--espruino] [--json]`: runs
// dev/demo.ts, then, when ESPRUINO_BIN names Espruino's Linux interpreter, dev/demo-espruino.ts
// in <dir>/espruino (--espruino: that part only). --json: one fwseal/1 document (command
// "demo") on stdout, the transcript on stderr; the Espruino part is not run.
// A development entry point, not part of the shipped CLI.
import { parseArgs } from "node:util";
import * as fs from "node:fs";
import * as path from "node:path";
import { runDemo, runDemoReport } from "./demo.js";
import { demoDocument, demoErrorDocument } from "./demo-document.js";
import { FwsealError } from "../host/errors.js";
import { runEspruinoDemo } from "./demo-espruino.js";

const USAGE = "usage: npm run demo [-- --dir <new or empty dir>] [--line-rate <baud>] [--image-size <bytes>] [--espruino] [--json]  (Espruino part: set ESPRUINO_BIN)";

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new FwsealError("USAGE", `--${name} must be a positive integer, not ${v}`);
  return n;
}

const json = process.argv.includes("--json");
try {
  const { values } = parseArgs({
    options: { espruino: { type: "boolean" }, json: { type: "boolean" }, dir: { type: "string" }, "line-rate": { type: "string" }, "image-size": { type: "string" }, help: { type: "boolean", short: "h" } }
  });
  if (values.help) {
    console.log(USAGE);
  } else if (json) {
    if (values.espruino) throw new FwsealError("USAGE", "--json runs the host demo only, not --espruino");
    const report = await runDemoReport({
      dir: values.dir,
      lineRate: positiveInt("line-rate", values["line-rate"], 921600),
      imageSize: positiveInt("image-size", values["image-size"], 192 * 1024),
      json: true
    });
    const doc = demoDocument(report);
    process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
    process.exitCode = doc.ok ? 0 : 1;
  } else {
    const bin = process.env.ESPRUINO_BIN ?? "";
    if (values.espruino && !bin) throw new Error("--espruino needs ESPRUINO_BIN (scripts/build-espruino.sh builds one)");
    const dir = path.resolve(values.dir ?? ".fwseal-demo");
    let code = 0;
    if (!values.espruino) {
      code = await runDemo({
        dir: values.dir,
        lineRate: positiveInt("line-rate", values["line-rate"], 921600),
        imageSize: positiveInt("image-size", values["image-size"], 192 * 1024)
      });
    } else if (!values.dir) fs.rmSync(dir, { recursive: true, force: true });
    if (bin && code === 0) {
      const failures = await runEspruinoDemo(path.join(dir, "espruino"), bin, (s) => void process.stdout.write(s));
      console.log(failures ? `\nEspruino demo: ${failures} step(s) FAILED` : `\nEspruino demo complete (${path.join(dir, "espruino")}).`);
      if (failures) code = 1;
    }
    process.exitCode = code;
  }
} catch (e) {
  if (json) {
    const err = e instanceof FwsealError ? e : new FwsealError((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? "USAGE" : "INTERNAL", (e as Error).message);
    process.stdout.write(JSON.stringify(demoErrorDocument(err), null, 2) + "\n");
    process.exitCode = err.exitCode;
  } else process.exitCode = (e as { exitCode?: number }).exitCode ?? 2;
  console.error(`demo: error: ${(e as Error).message}\n${USAGE}`);
}
