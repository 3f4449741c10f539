// fwseal device-conformance --engine node|duk|<command>: JSON lines in (stdin), one JSON
// line out per input, computed by the ES5 device core on the chosen engine. See
// host/device/conformance.ts for the operations; used to check every engine gives the same answers.
import type { CommandModule } from "yargs";
import { runConformance } from "../../device/conformance.js";
import { out } from "../output.js";
import { FwsealError } from "../../errors.js";
import * as fs from "node:fs";
import * as path from "node:path";

interface Args {
  engine: string;
  core?: string;
  json?: boolean;
}

/** The engine's program must exist: "node", "duk" on PATH, or a command whose first word is a program. */
function checkEngine(engine: string): void {
  if (engine === "node") return;
  const program = engine === "duk" ? "duk" : engine.split(" ").filter((s) => s.length > 0)[0];
  if (program === undefined) throw new FwsealError("USAGE", "--engine: give node, duk or a command");
  const candidates = program.includes("/") ? [program] : (process.env.PATH ?? "").split(path.delimiter).filter((d) => d.length > 0).map((d) => path.join(d, program));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return;
    } catch {
      // not this one
    }
  }
  throw new FwsealError("INPUT_MISSING", `--engine ${engine}: ${program.includes("/") ? "no such program (or not executable)" : "not found on PATH"}`);
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(parts).toString("utf8");
}

const command: CommandModule<object, Args> = {
  command: "device-conformance",
  describe: "Run device-core operations (JSON lines on stdin) on an engine; one JSON result line each",
  builder: (y) =>
    y
      .option("engine", {
        type: "string",
        default: "node",
        description: "node (in-process vm), duk, or a command to run with the script file as last argument"
      })
      .option("core", { type: "string", description: "ES5 core file (default build/fwseal-core.js)" })
      .example(`echo '{"op":"sha256","msg":"616263"}' | $0 device-conformance --engine duk`, "SHA-256 on Duktape")
      .example(
        `echo '{"op":"ed25519_verify","pk":"<64 hex>","msg":"","sig":"<128 hex>"}' | $0 device-conformance`,
        "Ed25519 verify on Node's vm"
      )
      .example(
        `echo '{"op":"verify_bundle","bundle":"fw.bundle","root":"root.pub","vendor":"acme.example","class":"sensor-v3","minSeq":0}' | $0 device-conformance --engine /opt/espruino/espruino`,
        "Streaming bundle verification on Espruino"
      )
      .example(
        `echo '{"op":"verify_bundle","bundle":"fw-delta.fwb","root":"root.pub","vendor":"acme.example","class":"sensor-v3","maxWindowBits":12,"precursor":"fw-41.fwb"}' | $0 device-conformance --engine duk`,
        "A delta on a device that decodes windows up to 2^12 and runs the release in fw-41.fwb"
      )
      .epilog(
        'Operations: {"op":"sha256","msg":hex} -> {"digest":hex}; {"op":"ed25519_verify","pk","msg","sig"} -> {"valid":bool};\n' +
          '{"op":"verify_bundle","bundle":path,"root":path|hex|[...],"vendor","class","minSeq","minEpoch","threshold","rootThreshold","now","retired","maxChunkSize","logKeys","witnessKeys","witnessQuorum",\n' +
          '"maxWindowBits","precursor","precursorChainHead"} -> {"valid":bool,"reason":NAME,"chunk":n}: the verdict of a device installing the bundle.\n' +
          'Compressed and delta payloads (SPEC §15): maxWindowBits is the device\'s decoder window (default 0: no decoder, so they are\n' +
          'UNSUPPORTED_ENCODING); precursor the image the device runs (an image file or the raw or compressed bundle that installed it), precursorChainHead\n' +
          'the chain head the device records for it (default: its manifest\'s, or computed in the delta\'s chunk size). The payload is\n' +
          'decoded in the engine\'s memory (image at most 16 MiB, else TOO_LARGE) and the result checked. A bad line gives {"error":"..."}.\n' +
          'The engine gets one script: the core\'s source and the operations\' data. On Espruino that needs a Linux build with resizable\n' +
          'variables (Espruino\'s default; scripts/build-espruino.sh <checkout> 0): a board-sized pool (12,000) answers LOW_MEMORY.'
      ) as never,
  handler: async (a) => {
    checkEngine(a.engine); // before waiting for stdin
    const input = await readStdin();
    let lines: string[];
    try {
      lines = await runConformance(input.split(/\r?\n/), { engine: a.engine, coreFile: a.core });
    } catch (e) {
      throw new FwsealError("INPUT_MISSING", (e as Error).message);
    }
    for (const l of lines) out(l);
  }
};
export default command;
