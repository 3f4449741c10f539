#!/usr/bin/env node
// Generates the fully unrolled GF(2^255 - 19) multiply and square of device-sim/core/crypto/ed25519.ts
// (15 limbs of 17 bits in a Float64Array, reduction by 2^255 = 19). The output replaces the
// block between "// BEGIN GENERATED FIELD" and "// END GENERATED FIELD" in ed25519.ts.
// Usage: node scripts/gen-ed25519-field.mjs [--write]     (without --write: print to stdout)
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const N = 15;

function carryCode(ind) {
  const lines = [];
  for (let k = 0; k < N; k++) {
    const next = k === N - 1 ? "t0 += 19 * c;" : `t${k + 1} += c;`;
    lines.push(`${ind}c = (t${k} / 131072) | 0; t${k} -= c * 131072; ${next}`);
  }
  lines.push(`${ind}c = (t0 / 131072) | 0; t0 -= c * 131072; t1 += c;`);
  return lines;
}

export function generateFieldCode() {
  const L = [];
  const aList = [], bList = [], cList = [];
  for (let i = 0; i < N; i++) { aList.push(`a${i} = a[${i}]`); bList.push(`b${i} = b[${i}]`); }
  for (let i = 1; i < N; i++) cList.push(`c${i} = 19 * b${i}`);
  L.push("// o = a * b mod p. Inputs: limbs with |a_i| * |b_j| <= 50 * 2^34.2 (see bounds note above);");
  L.push("// output limbs |o_i| < 2^17 except |o_1| < 2^17 + 2^13. o may alias a or b.");
  L.push("function feMul(o: Float64Array, a: Float64Array, b: Float64Array): void {");
  L.push(`  const ${aList.join(", ")};`);
  L.push(`  const ${bList.join(", ")};`);
  L.push(`  const ${cList.join(", ")};`);
  for (let k = 0; k < N; k++) {
    const terms = [];
    for (let i = 0; i < N; i++) {
      const j = k - i;
      if (j >= 0) terms.push(`a${i} * b${j}`);
      else terms.push(`a${i} * c${j + N}`);
    }
    L.push(`  let t${k} = ${terms.join(" + ")};`);
  }
  L.push("  let c = 0;");
  L.push(...carryCode("  "));
  for (let k = 0; k < N; k++) L.push(`  o[${k}] = t${k};`);
  L.push("}");
  L.push("");
  // Squaring, n times in a row (limbs stay in locals between rounds).
  L.push("// o = a^(2^n) mod p (n >= 1 squarings); same bounds as feMul. o may alias a.");
  L.push("function feSqN(o: Float64Array, a: Float64Array, n: number): void {");
  L.push(`  let ${aList.join(", ")};`);
  const decl = [];
  for (let k = 0; k < N; k++) decl.push(`t${k} = 0`);
  L.push(`  let ${decl.join(", ")}, c = 0;`);
  L.push("  while (n > 0) {");
  // precomputed multiples
  const need2 = new Set(), need38 = new Set(), need19 = new Set();
  const cols = [];
  for (let k = 0; k < N; k++) {
    const terms = [];
    for (let i = 0; i < N; i++) {
      for (let j = i; j < N; j++) {
        if (i + j === k) {
          if (i === j) terms.push(`a${i} * a${i}`);
          else { terms.push(`d${i} * a${j}`); need2.add(i); }
        } else if (i + j === k + N) {
          if (i === j) { terms.push(`a${i} * e${i}`); need19.add(i); }
          else { terms.push(`a${i} * f${j}`); need38.add(j); }
        }
      }
    }
    cols.push(terms);
  }
  const pre = [];
  for (const i of [...need2].sort((x, y) => x - y)) pre.push(`d${i} = 2 * a${i}`);
  for (const i of [...need19].sort((x, y) => x - y)) pre.push(`e${i} = 19 * a${i}`);
  for (const i of [...need38].sort((x, y) => x - y)) pre.push(`f${i} = 38 * a${i}`);
  for (let s = 0; s < pre.length; s += 8) L.push(`    const ${pre.slice(s, s + 8).join(", ")};`);
  for (let k = 0; k < N; k++) L.push(`    t${k} = ${cols[k].join(" + ")};`);
  L.push(...carryCode("    "));
  const back = [];
  for (let k = 0; k < N; k++) back.push(`a${k} = t${k};`);
  L.push(`    ${back.join(" ")}`);
  L.push("    n--;");
  L.push("  }");
  for (let k = 0; k < N; k++) L.push(`  o[${k}] = a${k};`);
  L.push("}");
  L.push("");
  for (const [name, op] of [["feAdd", "+"], ["feSub", "-"]]) {
    L.push(`// o = a ${op} b limb by limb, no carry (bounds grow: see note above).`);
    L.push(`function ${name}(o: Float64Array, a: Float64Array, b: Float64Array): void {`);
    for (let k = 0; k < N; k += 5) {
      const parts = [];
      for (let q = k; q < k + 5; q++) parts.push(`o[${q}] = a[${q}] ${op} b[${q}];`);
      L.push("  " + parts.join(" "));
    }
    L.push("}");
    L.push("");
  }
  return L.join("\n");
}

const here = path.dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = generateFieldCode();
  if (process.argv.includes("--write")) {
    const file = path.resolve(here, "../device-sim/core/crypto/ed25519.ts");
    const src = readFileSync(file, "utf8");
    const a = src.indexOf("// BEGIN GENERATED FIELD\n");
    const b = src.indexOf("// END GENERATED FIELD");
    if (a < 0 || b < 0) throw new Error("markers not found in " + file);
    writeFileSync(file, src.slice(0, a) + "// BEGIN GENERATED FIELD\n" + code + "\n" + src.slice(b));
    console.log("wrote " + file);
  } else {
    console.log(code);
  }
}
