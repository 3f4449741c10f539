#!/usr/bin/env node
// Regenerates formats/vectors/ (golden vectors) from dev/vectors-gen.ts. Build first:
//   npm run build && node scripts/gen-vectors.mjs [outDir]
// Deterministic: running it again gives identical files (test/unit/vectors.test.ts checks).
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const out = path.resolve(process.argv[2] ?? path.join(root, "formats/vectors"));
const generator = path.join(root, "build/dev/dev/vectors-gen.js");
if (!fs.existsSync(generator)) {
  console.error("gen-vectors: build/dev/ is missing: run `npm run build` first");
  process.exit(1);
}
const { generateVectors } = await import(pathToFileURL(generator).href);
const { files, index } = await generateVectors();
for (const [rel, bytes] of files) {
  const p = path.join(out, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes, { mode: rel.endsWith(".key") ? 0o600 : 0o644 });
}
console.log(`wrote ${files.size} files (${index.vectors.length} vectors) to ${path.relative(process.cwd(), out) || "."}`);
