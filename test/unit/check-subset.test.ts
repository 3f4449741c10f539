// The constrained-subset checker (scripts/check-subset.mjs): the real device core must be
// clean, and every forbidden construct in a fixture must be caught, on both sides (TS source
// with the type checker, emitted ES5 with acorn), so the check cannot silently be a no-op.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
// @ts-expect-error plain .mjs script without type declarations
import { checkCore, checkTsSources, checkEmittedJs } from "../../scripts/check-subset.mjs";
// @ts-expect-error plain .mjs script without type declarations
import { emitCoreEs5, buildCoreEs5 } from "../../scripts/build-core-es5.mjs";
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";
import { DRIVER_HEAD, driverCalls } from "../../host/device/conformance.js";

interface Violation { file: string; line: number; rule: string; snippet: string; text: string }

// [fixture name, expected rule, TS code]. Each fixture is otherwise valid, type-correct TS.
const TS_FIXTURES: [string, string, string][] = [
  ["bigint-literal", "bigint", "export const a = 10n;"],
  ["bigint-call", "bigint", "export const a = BigInt(10);"],
  ["map", "map-set", "export const m = new Map<number, number>();"],
  ["set", "map-set", "export const s = new Set<number>();"],
  ["weakmap", "map-set", "export const w = new WeakMap<object, number>();"],
  ["weakset", "map-set", "export const w = new WeakSet<object>();"],
  ["symbol", "symbol", "export const s = Symbol('x');"],
  ["proxy", "proxy-reflect", "export const p = new Proxy({}, {});"],
  ["reflect", "proxy-reflect", "export const k = Reflect.ownKeys({});"],
  ["promise", "promise", "export const p = Promise.resolve(1);"],
  ["regexp-literal", "regexp", "export const r = /ab+c/;"],
  ["regexp-ctor", "regexp", "export const r = new RegExp('x');"],
  ["generator", "generator", "export function* g(): Generator<number> { yield 1; }"],
  ["async", "async", "export async function f(): Promise<number> { return 1; }"],
  ["await", "async", "export async function f(p: Promise<number>): Promise<number> { const x = await p; return x; }"],
  ["class-extends", "class-extends", "class B { x = 1; }\nexport class D extends B { y = 2; }"],
  ["labelled", "labelled-statement", "export function f(): number { outer: for (let i = 0; i < 2; i++) { for (let j = 0; j < 2; j++) { if (j) continue outer; } } return 0; }"],
  ["exponent", "exponent", "export const x = 2 ** 10;"],
  ["exponent-assign", "exponent", "let y = 2; y **= 3; export { y };"],
  ["spread-array", "spread", "const a = [1, 2]; export const b = [...a];"],
  ["spread-object", "spread", "const a = { x: 1 }; export const b = { ...a };"],
  ["spread-call", "spread", "function f(a: number, b: number): number { return a + b; }\nconst xs: [number, number] = [1, 2]; export const r = f(...xs);"],
  ["rest-param", "rest-parameter", "export function f(...xs: number[]): number { return xs.length; }"],
  ["destructuring-object", "destructuring", "const o = { a: 1 }; export const { a } = o;"],
  ["destructuring-array", "destructuring", "const t = [1, 2]; export const [p, q] = t;"],
  ["destructuring-param", "destructuring", "export function f({ a }: { a: number }): number { return a; }"],
  ["destructuring-assign", "destructuring", "let a = 0; let b = 0; [a, b] = [b, a]; export { a, b };"],
  ["default-param", "default-parameter", "export function f(a: number = 1): number { return a; }"],
  ["optional-chaining", "optional-chaining", "const o: { a?: { b: number } } = {}; export const v = o.a?.b;"],
  ["optional-call", "optional-chaining", "const o: { f?: () => number } = {}; export const v = o.f?.();"],
  ["nullish", "nullish", "const o: number | null = null as number | null; export const v = o ?? 1;"],
  ["getter", "getter-setter", "export const o = { get x(): number { return 1; } };"],
  ["setter", "getter-setter", "export class C { private v = 0; set x(n: number) { this.v = n; } }"],
  ["class-getter", "getter-setter", "export class C { get x(): number { return 1; } }"],
  ["for-of", "for-of", "export function f(xs: number[]): number { let s = 0; for (const x of xs) s += x; return s; }"],
  ["try-catch", "try-catch", "export function f(): number { try { return 1; } catch (e) { return 2; } }"],
  ["throw", "throw", "export function f(): void { throw new Error('x'); }"],
  ["math-imul", "builtin-static", "export const x = Math.imul(3, 4);"],
  ["math-trunc", "builtin-static", "export const x = Math.trunc(3.5);"],
  ["math-clz32", "builtin-static", "export const x = Math.clz32(3);"],
  ["math-pow", "builtin-static", "export const x = Math.pow(2, 3);"],
  ["math-fround", "builtin-static", "export const x = Math.fround(2.5);"],
  ["math-sign", "builtin-static", "export const x = Math.sign(-2);"],
  ["math-log2", "builtin-static", "export const x = Math.log2(8);"],
  ["array-from", "builtin-static", "export const x = Array.from([1]);"],
  ["object-freeze", "builtin-static", "export const x = Object.freeze({ a: 1 });"],
  ["object-seal", "builtin-static", "export const x = Object.seal({ a: 1 });"],
  ["object-defineproperty", "builtin-static", "const o = {}; Object.defineProperty(o, 'x', { get: () => 1 }); export { o };"],
  ["number-isinteger", "builtin-static", "export const x = Number.isInteger(1);"],
  ["number-max-safe", "builtin-static", "export const x = Number.MAX_SAFE_INTEGER;"],
  ["uint8array-from", "builtin-static", "export const x = Uint8Array.from([1, 2]);"],
  ["arraybuffer-isview", "builtin-static", "export const x = ArrayBuffer.isView(new Uint8Array(1));"],
  ["json", "json", "export const x = JSON.stringify(new Uint8Array(2));"],
  ["last-index-of", "typed-array-method", "export const x = 'abc'.lastIndexOf('b');"],
  ["length-assign", "length-assign", "const a: number[] = [1, 2, 3]; a.length = 1; export { a };"],
  ["length-decrement", "length-assign", "const a: number[] = [1, 2, 3]; a.length--; export { a };"],
  ["instanceof", "instanceof", "export function f(x: unknown): boolean { return x instanceof Uint8Array; }"],
  ["arguments", "arguments", "export function f(): number { return arguments.length; }"],
  ["eval", "eval", "export const x = eval('1');"],
  ["new-function", "function-constructor", "export const f = new Function('return 1');"],
  ["require", "node-api", "declare const require: (m: string) => unknown; export const c = require('crypto');"],
  ["node-import", "non-relative-import", "import { createHash } from 'node:crypto';\nexport const h = createHash;"],
  ["dynamic-import", "dynamic-import", "export function f(): Promise<unknown> { return import('node:fs'); }"],
  ["process", "node-api", "export const a = process.argv;"],
  ["buffer", "node-api", "export const b = Buffer.alloc(2);"],
  ["console", "host-api", "export function f(): void { console.log(1); }"],
  ["settimeout", "host-api", "export function f(): void { setTimeout(() => 0, 1); }"],
  ["globalthis", "host-api", "export const g = globalThis;"],
  ["textencoder", "host-api", "export const e = new TextEncoder();"],
  ["textdecoder", "host-api", "export const d = new TextDecoder();"],
  ["typed-fill", "typed-array-method", "const a = new Uint8Array(4); a.fill(0); export { a };"],
  ["typed-slice", "typed-array-method", "const a = new Uint8Array(4); export const b = a.slice(1);"],
  ["typed-indexof", "typed-array-method", "const a = new Int32Array(4); export const i = a.indexOf(3);"],
  ["typed-copywithin", "typed-array-method", "const a = new Float64Array(4); a.copyWithin(0, 1); export { a };"],
  ["typed-foreach", "typed-array-method", "const a = new Uint8Array(4); let s = 0; a.forEach((v) => { s += v; }); export { s };"],
  ["typed-elementaccess", "typed-array-method", "const a = new Uint8Array(4); export const b = a['slice'](1);"],
  ["typed-union", "typed-array-method", "export function f(a: Uint8Array | Int32Array): number { return a.reduce((x: number, y: number) => x + y, 0); }"],
  ["typed-method-value", "typed-array-method", "const a = new Uint8Array(4); export const m = a.fill;"],
  ["arraybuffer-slice", "typed-array-method", "const b = new ArrayBuffer(8); export const c = b.slice(1);"],
  ["array-map", "typed-array-method", "export const x = [1, 2].map((v) => v + 1);"],
  ["name-of", "reserved-name", "export function f(): number { const of = 1; return of; }"],
  ["name-static", "reserved-name", "export function f(): number { const static_ = 1; const o = { static: static_ }; return o.static; }"],
  ["name-undefined", "reserved-name", "export function f(undefined: number): number { return undefined; }"],
  ["const-reassign", "tsc", "const c = 1;\nexport function f(): number { c = 2; return c; }"],
  ["hoisting", "hoisting", "export const x = later();\nfunction later(): number { return 1; }"],
  ["hoisting-in-body", "hoisting", "export function f(): number { const v = g(); function g(): number { return 2; } return v; }"],
  ["namespace-import", "namespace-import", "import * as R from '../../../formats/device-safe/reasons.js';\nexport const x = R.Reason.OK;"],
  ["template-literal", "template-literal", "const n = 1; export const s = `n=${n}`;"],
  ["private-field", "private-field", "export class C { #x = 1; get(): number { return this.#x; } }"],
  ["date", "date", "export const t = Date.now();"],
  ["shift-32", "shift-count", "export function f(x: number): number { return x >>> 32; }"],
  ["pad-start", "es2015-method", "export const s = 'a'.padStart(2, '0');"],
  ["string-repeat", "es2015-method", "export const s = 'ab'.repeat(2);"],
  ["dataview", "dataview", "export const d = new DataView(new ArrayBuffer(4));"],
];

// ES5 JavaScript fixtures for the emitted-code walker: [name, expected rule, ES5 code].
const JS_FIXTURES: [string, string, string][] = [
  ["js-getter", "getter-setter", "var o = { get x() { return 1; } };"],
  ["js-setter", "getter-setter", "var o = { set x(v) { } };"],
  ["js-defineproperty", "builtin-static", "var o = {}; Object.defineProperty(o, 'x', { get: function () { return 1; } });"],
  ["js-export-helper", "emit-helper", "var __defProp = Object.defineProperty; var __export = function (t, a) { for (var n in a) __defProp(t, n, { get: a[n] }); };"],
  ["js-spreadarray", "emit-helper", "var x = __spreadArray([], [1], false);"],
  ["js-extends", "emit-helper", "var D = (function (_super) { __extends(D, _super); function D() { return _super.call(this) || this; } return D; }(B));"],
  ["js-symbol", "symbol", "var s = Symbol.iterator;"],
  ["js-map", "map-set", "var m = new Map();"],
  ["js-set", "map-set", "var s = new Set();"],
  ["js-promise", "promise", "var p = Promise.resolve(1);"],
  ["js-regexp", "regexp", "var r = /ab+c/g;"],
  ["js-regexp-ctor", "regexp", "var r = RegExp('x');"],
  ["js-label", "labelled-statement", "outer: for (var i = 0; i < 2; i++) { continue outer; }"],
  ["js-try", "try-catch", "try { f(); } catch (e) { }"],
  ["js-throw", "throw", "function f() { throw 1; }"],
  ["js-math-imul", "builtin-static", "var x = Math.imul(2, 3);"],
  ["js-math-pow", "builtin-static", "var x = Math.pow(2, 3);"],
  ["js-array-from", "builtin-static", "var x = Array.from([1]);"],
  ["js-number-isinteger", "builtin-static", "var x = Number.isInteger(1);"],
  ["js-object-freeze", "builtin-static", "var x = Object.freeze({});"],
  ["js-json", "json", "var x = JSON.stringify({});"],
  ["js-instanceof", "instanceof", "var x = a instanceof Uint8Array;"],
  ["js-length-assign", "length-assign", "var a = [1, 2]; a.length = 0;"],
  ["js-arguments", "arguments", "function f() { return arguments[0]; }"],
  ["js-eval", "eval", "var x = eval('1');"],
  ["js-new-function", "function-constructor", "var f = new Function('return 1');"],
  ["js-require", "node-api", "var c = require('crypto');"],
  ["js-process", "node-api", "var a = process.argv;"],
  ["js-buffer", "node-api", "var b = Buffer.alloc(1);"],
  ["js-console", "host-api", "console.log(1);"],
  ["js-settimeout", "host-api", "setTimeout(function () {}, 1);"],
  ["js-globalthis", "host-api", "var g = globalThis;"],
  ["js-textencoder", "host-api", "var e = new TextEncoder();"],
  ["js-fill", "typed-array-method", "var a = new Uint8Array(2); a.fill(0);"],
  ["js-slice", "typed-array-method", "var b = a.slice(1);"],
  ["js-indexof", "typed-array-method", "var i = a.indexOf(1);"],
  ["js-lastindexof", "typed-array-method", "var i = s.lastIndexOf('x');"],
  ["js-foreach", "typed-array-method", "a.forEach(function (v) {});"],
  ["js-uint8-from", "builtin-static", "var a = Uint8Array.from([1]);"],
  ["js-name-of", "reserved-name", "var of = 1;"],
  ["js-name-static", "reserved-name", "var o = { static: 1 };"],
  ["js-name-undefined", "reserved-name", "function f(undefined) { return undefined; }"],
  ["js-shift-32", "shift-count", "var y = x << 32;"],
  ["js-starts-with", "es2015-method", "var b = s.startsWith('x');"],
  ["js-hoisting", "hoisting", "function make() { var o = { push: push }; function push() { return 1; } return o; }"],
  ["js-hoisting-top", "hoisting", "var x = later();\nfunction later() { return 1; }"],
  ["js-es2015-arrow", "not-es5", "var f = () => 1;"],
  ["js-es2015-let", "not-es5", "let x = 1;"],
  ["js-es2015-class", "not-es5", "class A {}"],
  ["js-es2015-forof", "not-es5", "for (var x of [1]) {}"],
  ["js-es2015-exponent", "not-es5", "var x = 2 ** 3;"],
  ["js-es2015-spread", "not-es5", "var x = f(...a);"],
];

describe("check-subset: the real device core", () => {
  it("has no violations in the TypeScript source of the core bundle", () => {
    const { files, violations } = checkCore() as { files: string[]; violations: Violation[] };
    expect(files).toContain("device-sim/core/index.ts");
    expect(files).toContain("formats/device-safe/reasons.ts");
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(violations.map((v) => v.text)).toEqual([]);
  });

  it("has no violations in the emitted ES5 (plain and minified)", async () => {
    const outs = (await emitCoreEs5()) as { path: string; text: string }[];
    expect(outs).toHaveLength(2);
    for (const o of outs) {
      expect(o.text).toMatch(/^var fwsealCore;/);
      expect(checkEmittedJs(o.text, o.path).map((v: Violation) => v.text)).toEqual([]);
    }
  });
});

describe("check-subset: the conformance driver (host/device/conformance.ts) stays in the subset", () => {
  it("has no violations with every kind of operation embedded", () => {
    const calls = driverCalls([
      { id: 0, op: { op: "sha256", msg: "616263" } },
      { id: 1, op: { op: "ed25519_verify", pk: "00".repeat(32), msg: "", sig: "00".repeat(64) } },
      { id: 2, op: { op: "verify_bundle", bundle: "d2", roots: "00".repeat(32), rootCount: 1, rootHssMask: 0, rootRetired: 0, vendor: "00".repeat(16), cls: "00".repeat(16), minSeq: 0, minEpoch: 0, threshold: 1, rootThreshold: 1, requiredAlgorithms: 0, hss: false, now: -1, maxChunkSize: 4096 } }
    ]);
    expect(calls.split("\n").filter((l: string) => l.length > 0)).toHaveLength(4); // 3 operations + the end marker
    expect(checkEmittedJs(DRIVER_HEAD + calls, "driver.js").map((v: Violation) => v.text)).toEqual([]);
  });
});

describe("check-subset: TypeScript fixtures", () => {
  let byFile: Map<string, Violation[]>;
  beforeAll(() => {
    const sources: Record<string, string> = {
      "clean.ts":
        "import { Reason } from '../../../formats/device-safe/reasons.js';\n" +
        "export class Acc { total = 0; add(b: Uint8Array, off: number, len: number): number {\n" +
        "  const v = b.subarray(off, off + len); let s = 0;\n" +
        "  for (let i = 0; i < v.length; i++) s = (s + v[i]) | 0;\n" +
        "  const t = new Uint8Array(v.length); t.set(v, 0);\n" +
        "  this.total = s >>> 0; return s === 0 ? Reason.OK : Reason.MALFORMED; } }\n",
    };
    for (const [name, , code] of TS_FIXTURES) sources[name + ".ts"] = code;
    const vs = checkTsSources(sources) as Violation[];
    byFile = new Map();
    for (const v of vs) {
      const list = byFile.get(v.file) ?? [];
      list.push(v);
      byFile.set(v.file, list);
    }
  });

  it("accepts a clean fixture (typed arrays through set/subarray/length, plain class)", () => {
    expect((byFile.get("clean.ts") ?? []).map((v) => v.text)).toEqual([]);
  });

  it.each(TS_FIXTURES)("catches %s as %s", (name, rule) => {
    const found = byFile.get(name + ".ts") ?? [];
    expect(found.map((v) => v.rule), found.map((v) => v.text).join("\n")).toContain(rule);
    // Report format: file:line: rule: snippet
    const v = found.find((x) => x.rule === rule)!;
    expect(v.text).toMatch(new RegExp("^" + name + "\\.ts:\\d+: " + rule + ": \\S"));
  });
});

describe("check-subset: emitted-JS fixtures", () => {
  it("accepts clean ES5", () => {
    const clean = "var fwsealCore; (function () { var a = new Uint8Array(4); a.set([1], 0); var b = a.subarray(1);" +
      " function C() { this.x = 0; } C.prototype.f = function () { return b.length; }; fwsealCore = { C: C }; })();";
    expect(checkEmittedJs(clean, "clean.js")).toEqual([]);
  });

  it.each(JS_FIXTURES)("catches %s as %s", (name, rule, code) => {
    const found = checkEmittedJs(code, name + ".js") as Violation[];
    expect(found.map((v) => v.rule), found.map((v) => v.text).join("\n")).toContain(rule);
    expect(found[0].text).toMatch(new RegExp("^" + name + "\\.js:\\d+: [a-z0-9-]+: "));
  });
});

describe("build-core-es5", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "fwseal-subset-"));
  const entry = (name: string, code: string): string => {
    const f = path.join(dir, name + ".ts");
    writeFileSync(f, code);
    return f;
  };

  it("builds a clean entry into a working ES5 global (no getters, runs in a fresh vm context)", async () => {
    const e = entry("ok", "class Acc { n = 0; add(k: number): number { this.n += k; return this.n; } }\n" +
      "const f = (a: number): number => a * 2;\nexport const fwsealCore = { Acc: Acc, f: f };\n");
    const { files } = await buildCoreEs5({ entry: e, outDir: path.join(dir, "ok"), quiet: true });
    expect(files).toHaveLength(2);
    for (const file of files) {
      expect(file.bytes).toBeGreaterThan(0);
      expect(file.gzipBytes).toBeGreaterThan(0);
      const c = vm.runInNewContext(readFileSync(file.path, "utf8") + "\n;var a = new fwsealCore.Acc(); a.add(2); a.add(3) + fwsealCore.f(1);", {});
      expect(c).toBe(7);
    }
  });

  it.each([
    ["getter", "export const fwsealCore = { get x(): number { return 1; } };", "getter-setter"],
    ["extends", "class B { x = 1; }\nclass D extends B { y = 2; }\nexport const fwsealCore = { D: D };", "emit-helper"],
    ["namespace-export", "import * as R from " + JSON.stringify(path.resolve(__dirname, "../../formats/device-safe/reasons.ts")) + ";\nexport const fwsealCore = { R: R };", "emit-helper"],
    ["try", "export const fwsealCore = { f: (): number => { try { return 1; } catch (e) { return 2; } } };", "try-catch"],
    ["math-imul", "export const fwsealCore = { f: (a: number): number => Math.imul(a, 3) };", "builtin-static"]
  ])("refuses to build an entry with %s", async (name, code, rule) => {
    const e = entry(name, code);
    let err: { problems?: string[] } | null = null;
    try {
      await buildCoreEs5({ entry: e, outDir: path.join(dir, name), quiet: true });
    } catch (x) {
      err = x as { problems?: string[] };
    }
    expect(err, "build should fail").not.toBeNull();
    expect((err!.problems ?? []).join("\n")).toContain(": " + rule + ": ");
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});

