// `npm run demo [-- --dir D --line-rate BAUD --image-size BYTES]`: runs dev/demo.ts.
// A development entry point, not part of the shipped CLI.
import { parseArgs } from "node:util";
import { runDemo } from "./demo.js";

const USAGE = "usage: npm run demo [-- --dir <new or empty dir>] [--line-rate <baud>] [--image-size <bytes>]";

function positiveInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, not ${v}`);
  return n;
}

try {
  const { values } = parseArgs({
    options: { dir: { type: "string" }, "line-rate": { type: "string" }, "image-size": { type: "string" }, help: { type: "boolean", short: "h" } }
  });
  if (values.help) {
    console.log(USAGE);
  } else {
    process.exitCode = await runDemo({
      dir: values.dir,
      lineRate: positiveInt("line-rate", values["line-rate"], 921600),
      imageSize: positiveInt("image-size", values["image-size"], 192 * 1024)
    });
  }
} catch (e) {
  console.error(`demo: error: ${(e as Error).message}\n${USAGE}`);
  process.exitCode = (e as { exitCode?: number }).exitCode ?? 2;
}
