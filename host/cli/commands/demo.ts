// fwseal demo: the end-to-end flow on built-in defaults (see host/dev/demo.ts).
import type { CommandModule } from "yargs";
import { runDemo } from "../../dev/demo.js";
import { setExitCode } from "../output.js";

interface Args {
  dir?: string;
  "line-rate": number;
  "image-size": number;
}

const command: CommandModule<object, Args> = {
  command: "demo",
  describe: "Run the whole flow: keys, pack, a simulated device on a serial line, flash, reboot, confirm, rejections",
  builder: (y) =>
    y
      .option("dir", { type: "string", description: "Working directory, new or empty (default: ./.fwseal-demo, recreated)" })
      .option("line-rate", { type: "number", default: 921600, description: "Simulated serial speed of the device, baud" })
      .option("image-size", { type: "number", default: 192 * 1024, description: "Sample firmware size in bytes" })
      .example("$0 demo", "Run the demo in ./.fwseal-demo")
      .example("$0 demo --dir ./demo --line-rate 115200", "Keep the files in ./demo, at a real-world UART speed") as never,
  handler: async (a) => {
    setExitCode(await runDemo({ dir: a.dir, lineRate: a["line-rate"], imageSize: a["image-size"] }));
  }
};
export default command;
