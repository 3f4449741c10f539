// fwseal completion: prints a bash or zsh completion script; the script calls
// `fwseal completion --candidates -- <words>` for the words to offer (host/cli/completion.ts).
import type { CommandModule } from "yargs";
import { out } from "../output.js";
import { outDocument } from "../json-document.js";
import { BASH_SCRIPT, ZSH_SCRIPT, completionCandidates } from "../completion.js";

interface Args {
  shell?: string;
  candidates?: boolean;
  json?: boolean;
  _: (string | number)[];
  "--"?: (string | number)[];
}

const command: CommandModule<object, Args> = {
  command: "completion [shell]",
  describe: "Print a shell completion script (bash or zsh)",
  builder: (y) =>
    y
      .positional("shell", { type: "string", choices: ["bash", "zsh"], default: "bash", description: "Shell to complete in" })
      .option("candidates", { type: "boolean", hidden: true, description: "Print the candidates for the words after --" })
      .parserConfiguration({ "populate--": true })
      .example("source <(fwseal completion bash)", "in the shell start-up file (.bashrc)")
      .example("source <(fwseal completion zsh)", "in .zshrc")
      .example("fwseal completion zsh --json", "the script in a fwseal/1 document (field script), for an installer") as never,
  handler: async (a) => {
    if (a.candidates) {
      const words = (a["--"] ?? []).map(String);
      for (const c of await completionCandidates(words)) out(c);
      return;
    }
    const shell = a.shell === "zsh" ? "zsh" : "bash";
    const script = (shell === "zsh" ? ZSH_SCRIPT : BASH_SCRIPT).trimEnd();
    if (a.json) outDocument({ shell, script: script + "\n" });
    else out(script);
  }
};
export default command;
