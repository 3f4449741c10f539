// The files of the repository, read without running git (the unit tier starts no
// processes): from git's index when the checkout has one (a plain clone or a worktree),
// otherwise, in a bare copy of the tracked files, every file under the root except the
// folders npm and the build create.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/** Folders that are never tracked (installed, built or git's own). */
const UNTRACKED_FOLDERS = new Set([".git", "node_modules", "dist", "build", "coverage"]);

/** The path of git's index for the checkout at `root`, or null if it is not a git checkout. */
function gitIndexPath(root: string): string | null {
  const dotGit = path.join(root, ".git");
  if (!existsSync(dotGit)) return null;
  if (statSync(dotGit).isDirectory()) return path.join(dotGit, "index");
  // A worktree or submodule: .git is a file "gitdir: <path>".
  const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"));
  if (!m) return null;
  return path.join(path.resolve(root, m[1]), "index");
}

/** Paths (relative, "/"-separated) listed in a git index file (versions 2, 3 and 4). */
export function parseGitIndex(index: Uint8Array): string[] {
  const b = Buffer.from(index.buffer, index.byteOffset, index.byteLength);
  if (b.toString("latin1", 0, 4) !== "DIRC") throw new Error("not a git index");
  const version = b.readUInt32BE(4);
  if (version < 2 || version > 4) throw new Error(`git index version ${version} not supported`);
  const count = b.readUInt32BE(8);
  const out: string[] = [];
  let off = 12;
  let prev = "";
  for (let n = 0; n < count; n++) {
    const start = off;
    const flags = b.readUInt16BE(start + 60);
    off = start + 62;
    if (version >= 3 && flags & 0x4000) off += 2; // extended flags
    let name: string;
    if (version === 4) {
      // Prefix compression: a varint of bytes to drop from the previous name, then a suffix.
      let v = b[off++];
      let drop = v & 0x7f;
      while (v & 0x80) {
        v = b[off++];
        drop = ((drop + 1) << 7) | (v & 0x7f);
      }
      const end = b.indexOf(0, off);
      name = prev.slice(0, prev.length - drop) + b.toString("utf8", off, end);
      off = end + 1;
    } else {
      const end = b.indexOf(0, off);
      name = b.toString("utf8", off, end);
      // Entries are NUL-padded to a multiple of 8 bytes (at least one NUL).
      off = start + ((end - start + 8) & ~7);
    }
    const stage = (flags >> 12) & 3;
    if (stage === 0 || stage === 2) out.push(name); // one name per file during a merge
    prev = name;
  }
  return out;
}

function walk(root: string, rel: string, out: string[]): void {
  for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!UNTRACKED_FOLDERS.has(e.name) || rel !== "") walk(root, r, out);
    } else out.push(r);
  }
}

/** The repository's files below `root`, relative and "/"-separated, sorted. */
export function trackedFiles(root: string): string[] {
  const index = gitIndexPath(root);
  let files: string[];
  if (index && existsSync(index)) files = parseGitIndex(readFileSync(index));
  else {
    files = [];
    walk(root, "", files);
  }
  return [...new Set(files)].sort();
}
