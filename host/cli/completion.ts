// Shell completion: the candidates for the word being typed (commands, a command's flags,
// a flag's choices, a command's subcommands), computed from the same command modules the CLI
// runs, and the bash / zsh scripts that ask `fwseal completion --candidates -- <words>` for
// them. No candidates means "complete a file name" (the scripts fall back to it).
import yargs from "yargs";
import { commandLoaders } from "./commands/index.js";

/** Flags every command takes (cli.ts). */
const GLOBAL_FLAGS = ["--json", "--quiet", "--verbose", "--profile", "--help"];

interface CommandShape {
  flags: string[];
  choices: Record<string, string[]>;
  aliases: Record<string, string>;
  subcommands: string[];
  /** The choices of the first positional (espruino <action>, completion [shell]). */
  firstChoices: string[];
}

/** The flags, choices and subcommands of one command module, read by running its builder on an empty parser. */
async function shapeOf(name: string): Promise<CommandShape | null> {
  if (!Object.prototype.hasOwnProperty.call(commandLoaders, name)) return null;
  const mod = (await commandLoaders[name]()).default;
  const positionalList = [...String(mod.command ?? "").matchAll(/[<[]([\w-]+)/g)].map((m) => m[1]);
  const positionals = new Set(positionalList);
  const y = yargs([]);
  let subcommands: string[] = [];
  if (typeof mod.builder === "function") {
    const built = mod.builder(y as never) as unknown as typeof y;
    const internal = (built as unknown as { getInternalMethods?: () => { getCommandInstance(): { getCommands(): string[] } } }).getInternalMethods;
    subcommands = internal ? internal.call(built).getCommandInstance().getCommands() : [];
  }
  const o = (y as unknown as { getOptions(): unknown }).getOptions() as { key: Record<string, unknown>; choices: Record<string, string[]>; alias: Record<string, string[]>; hiddenOptions: string[] };
  const flags = Object.keys(o.key).filter((k) => !positionals.has(k) && k.length > 1 && !/[A-Z]/.test(k) && !o.hiddenOptions.includes(k) && k !== "version" && k !== "help");
  const aliases: Record<string, string> = {};
  for (const [k, as] of Object.entries(o.alias)) for (const a of as) aliases[a] = k;
  const firstChoices = positionalList.length > 0 ? o.choices[positionalList[0]] ?? [] : [];
  return { flags: flags.map((f) => `--${f}`), choices: o.choices, aliases, subcommands, firstChoices };
}

/**
 * Completion candidates for `words` (what follows `fwseal` on the line; the last one is the
 * word being completed, "" for a new word), sorted.
 */
export async function completionCandidates(words: readonly string[]): Promise<string[]> {
  const partial = words.length > 0 ? words[words.length - 1] : "";
  const starts = (xs: readonly string[]): string[] => [...new Set(xs.filter((x) => x.startsWith(partial)))].sort();
  if (words.length <= 1) return starts(partial.startsWith("-") ? GLOBAL_FLAGS : Object.keys(commandLoaders));
  const shape = await shapeOf(words[0]);
  if (!shape) return [];
  if (partial.startsWith("-")) return starts([...shape.flags, ...GLOBAL_FLAGS]);
  const prev = words[words.length - 2];
  if (prev.startsWith("-")) {
    const raw = prev.replace(/^-+/, "");
    const name = shape.aliases[raw] ?? raw;
    if (shape.choices[name]) return starts(shape.choices[name]);
  }
  if (words.length === 2 && shape.subcommands.length > 0) return starts(shape.subcommands);
  if (words.length === 2 && shape.firstChoices.length > 0) return starts(shape.firstChoices);
  return [];
}

/** The bash completion script (source it, or put it in /etc/bash_completion.d/fwseal). */
export const BASH_SCRIPT = `# fwseal completion for bash: source this file, e.g. from your .bashrc:
#   source <(fwseal completion bash)
_fwseal_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  COMPREPLY=( $(fwseal completion --candidates -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) )
  if [ \${#COMPREPLY[@]} -eq 0 ]; then
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
}
complete -o filenames -F _fwseal_complete fwseal
`;

/** The zsh completion script (source it, or save it as _fwseal on $fpath). */
export const ZSH_SCRIPT = `#compdef fwseal
# fwseal completion for zsh: source this file, e.g. from your .zshrc:
#   source <(fwseal completion zsh)
_fwseal() {
  local -a candidates
  candidates=("\${(@f)$(fwseal completion --candidates -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if (( \${#candidates} )) && [[ -n "\${candidates[1]}" ]]; then
    compadd -- "\${candidates[@]}"
  else
    _files
  fi
}
if (( $+functions[compdef] )); then compdef _fwseal fwseal; fi
`;
