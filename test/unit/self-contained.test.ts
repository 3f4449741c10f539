// The repository is self-contained: no tracked file refers to a path outside it (a sibling
// checkout, a developer's machine or home folder), and no tracked symlink points outside
// it. A fresh clone must build and test with nothing beside it; scripts/check-bare-copy.sh
// proves that by running the unit tier in a bare copy of the tracked files.
import { describe, it, expect } from "vitest";
import { lstatSync, readFileSync, readlinkSync, existsSync } from "node:fs";
import path from "node:path";
import { trackedFiles, parseGitIndex } from "../helpers/tracked-files.js";
import { REPO as ROOT } from "../helpers/repo.js";

const SELF = "test/unit/self-contained.test.ts"; // states the forbidden patterns itself

/** Third-party data kept byte-for-byte as published (test/vectors/SOURCES.md). */
const isVectorData = (f: string): boolean => f.startsWith("test/vectors/");

/** Absolute paths that only exist on one machine. */
const FOREIGN_ABSOLUTE: [string, RegExp][] = [
  ["a shared folder beside the repository", /(^|[^.\w])\.\.\/shared\b/],
  ["a workspace path", /(^|[\s"'`(=:])\/work\//],
  ["a home folder", /(^|[\s"'`(=:])(\/home\/[\w.-]+|\/Users\/[\w.-]+|\/root\/|[A-Za-z]:\\Users\\)/],
  ["a home-relative path", /(^|[\s"'`(=:])~\//],
];

/**
 * Relative paths that climb out of their file's folder but are not resolved from it: the
 * check-subset fixtures are compiled as if they were in device-sim/core/__fixture__/.
 */
const RESOLVED_ELSEWHERE: Record<string, string[]> = {
  "test/unit/check-subset.test.ts": ["../../../formats"],
};

interface Finding {
  file: string;
  line: number;
  what: string;
  text: string;
}

function isBinary(b: Buffer): boolean {
  return b.subarray(0, 8000).includes(0);
}

/** Every reference in `text` (the content of `file`) to a place outside the repository. */
function outsideReferences(file: string, text: string): Finding[] {
  const found: Finding[] = [];
  const lines = text.split("\n");
  const allowed = RESOLVED_ELSEWHERE[file] ?? [];
  lines.forEach((l, i) => {
    for (const [what, re] of FOREIGN_ABSOLUTE) if (re.test(l)) found.push({ file, line: i + 1, what, text: l.trim() });
    // A relative path resolved from the file's folder must stay inside the repository.
    for (const m of l.matchAll(/(?:\.\.\/)+[\w.@-]*/g)) {
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[0]));
      if (!resolved.startsWith("../") && resolved !== "..") continue;
      if (allowed.some((a) => m[0].startsWith(a))) continue;
      found.push({ file, line: i + 1, what: `a relative path leaving the repository (${m[0]})`, text: l.trim() });
    }
  });
  return found;
}

describe("the repository is self-contained", () => {
  const files = trackedFiles(ROOT).filter((f) => !isVectorData(f));

  it("finds the tracked files (git index or bare copy)", () => {
    for (const f of ["package.json", "package-lock.json", "tsconfig.json", "README.md"]) expect(files).toContain(f);
    expect(files.some((f) => f.startsWith("node_modules/"))).toBe(false);
    expect(files.length).toBeGreaterThan(100);
  });

  it("no tracked file refers to a path outside the repository", () => {
    const findings: Finding[] = [];
    for (const f of files) {
      if (f === SELF) continue;
      const abs = path.join(ROOT, f);
      if (!existsSync(abs) || isSymlink(abs)) continue;
      const bytes = readFileSync(abs);
      if (isBinary(bytes)) continue;
      findings.push(...outsideReferences(f, bytes.toString("utf8")));
    }
    expect(findings.map((x) => `${x.file}:${x.line}: ${x.what}: ${x.text}`)).toEqual([]);
  });

  it("no tracked symlink points outside the repository", () => {
    const escaping: string[] = [];
    for (const f of files) {
      const abs = path.join(ROOT, f);
      if (!isSymlink(abs)) continue;
      const rel = path.relative(ROOT, path.resolve(path.dirname(abs), readlinkSync(abs)));
      if (rel.startsWith("..") || path.isAbsolute(rel)) escaping.push(`${f} -> ${readlinkSync(abs)}`);
    }
    expect(escaping).toEqual([]);
  });

  it("the scanner catches each kind of outside reference (so it cannot silently pass)", () => {
    const bad = [
      // Built from parts so that this file itself holds no such reference.
      'import x from "' + ".." + '/shared/lib.js";',
      "cp /work/main/build/x .",
      'const key = "/home/alice/.fwseal/root.key";',
      "see ~/notes.txt",
      'import y from "../../../elsewhere/y.js";',
    ];
    const found = outsideReferences("test/unit/example.test.ts", bad.join("\n"));
    expect(found.map((x) => x.line).sort()).toEqual([1, 2, 3, 4, 5]);
    // Paths that stay inside are fine; so are system tool locations.
    const good = ['import z from "../../formats/index.js";', 'const m = "/usr/lib/softhsm/libsofthsm2.so";', "a/../b"];
    expect(outsideReferences("test/unit/example.test.ts", good.join("\n"))).toEqual([]);
  });

  it("reads git index entries (version 2 layout)", () => {
    // Two entries: "a.txt" and "dir/b.js", each 62 fixed bytes + name + NUL padding to 8.
    const entry = (name: string): Buffer => {
      const len = (62 + name.length + 8) & ~7;
      const e = Buffer.alloc(len);
      e.writeUInt16BE(name.length, 60);
      e.write(name, 62, "utf8");
      return e;
    };
    const head = Buffer.alloc(12);
    head.write("DIRC", 0, "latin1");
    head.writeUInt32BE(2, 4);
    head.writeUInt32BE(2, 8);
    expect(parseGitIndex(Buffer.concat([head, entry("a.txt"), entry("dir/b.js")]))).toEqual(["a.txt", "dir/b.js"]);
  });
});

/** True for a symlink; false for anything else, or a file deleted but still in the index. */
function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
