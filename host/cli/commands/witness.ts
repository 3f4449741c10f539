// fwseal witness: cosign a log's checkpoint after verifying it extends the last one this
// witness cosigned (c2sp.org/tlog-cosignature v1); a fork or a rollback is refused.
import type { CommandModule } from "yargs";
import { out, hex } from "../output.js";
import { outDocument } from "../json-document.js";
import { FwsealError } from "../../errors.js";
import { logSource } from "../../log/http-source.js";
import { witnessCheckpoint, WitnessRefusal } from "../../log/witness.js";
import { formatVerifierKey, NoteSigType } from "../../log/note.js";
import { epochSecondsFlag, loadNoteSigningKey, loadVerifierKey } from "../log-keys.js";
import { AtomicFile } from "../../io/atomic-write.js";
import { forceOption } from "../argument-checks.js";

interface Args {
  log: string;
  logKey: string;
  key: string;
  name: string;
  state: string;
  output?: string;
  time?: number;
  force?: boolean;
  json?: boolean;
}

const command: CommandModule<object, Args> = {
  command: "witness <log>",
  describe: "Verify the log's checkpoint is consistent with the last one cosigned, then cosign it (refuses a fork)",
  builder: (y) =>
    forceOption(y, "Overwrite an existing -o file")
      .positional("log", { type: "string", demandOption: true, description: "Log URL or published folder" })
      .option("log-key", { type: "string", demandOption: true, description: "The log's vkey (string or file)" })
      .option("key", { type: "string", demandOption: true, description: "The witness's Ed25519 private key (PEM)" })
      .option("name", { type: "string", demandOption: true, description: "The witness's key name, e.g. witness.example.com/w1" })
      .option("state", { type: "string", demandOption: true, description: "State file: the last checkpoint cosigned per log" })
      .option("output", { alias: "o", type: "string", description: "Write the cosigned checkpoint here (for fwseal log publish --cosigned)" })
      .option("time", { type: "number", description: "Cosignature time, seconds since 1970 (default now)" })
      .example("$0 witness http://127.0.0.1:8080/log --log-key log.vkey --key w1.pem --name w1.example --state w1.json -o w1.note", "") as never,
  handler: async (a) => {
    const logKey = loadVerifierKey(a.logKey);
    const witnessKey = await loadNoteSigningKey(a.key, a.name, NoteSigType.COSIGNATURE_V1);
    const source = logSource(a.log);
    const now = a.time !== undefined ? epochSecondsFlag(a.time, "--time") : Math.floor(Date.now() / 1000);
    // The output is opened before the state records the cosignature: an output that cannot be
    // written stops the command before the witness has committed to anything.
    const output = a.output ? await AtomicFile.open(a.output, { overwrite: !!a.force }) : null;
    let r;
    try {
      const note = new TextDecoder().decode(await source("checkpoint"));
      r = await witnessCheckpoint({ note, logKey, source, witnessKey, stateFile: a.state, now });
    } catch (e) {
      await output?.abort();
      if (e instanceof WitnessRefusal) throw new FwsealError("LOG_REJECTED", `witness refuses: ${e.message}`);
      if (e instanceof FwsealError) throw e;
      throw new FwsealError("INPUT_UNREADABLE", (e as Error).message);
    }
    if (output) {
      await output.write(Buffer.from(r.note, "utf8"));
      await output.commit();
    }
    const vkey = formatVerifierKey(witnessKey);
    if (a.json) outDocument({ origin: r.checkpoint.origin, size: r.checkpoint.size, root: hex(r.checkpoint.root), previousSize: r.previousSize, proofHashes: r.proofHashes, witnessVkey: vkey, checkpoint: r.note });
    else {
      out(`${r.checkpoint.origin}: cosigned size ${r.checkpoint.size}${r.previousSize === null ? " (first checkpoint seen)" : ` (consistent with ${r.previousSize}, ${r.proofHashes}-hash proof)`}; witness key ${vkey}`);
      if (!a.output) out(r.note.trimEnd());
    }
  }
};
export default command;
