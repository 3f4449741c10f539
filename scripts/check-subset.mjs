#!/usr/bin/env node
// Enforces the constrained subset of docs/CONSTRAINED-TS.md on the device core, twice:
//  (a) over the TypeScript source of every file in the core bundle (the import graph of
//      device-sim/core/index.ts), with the TypeScript compiler API and its type checker;
//  (b) over the emitted ES5 JavaScript (build/fwseal-core.js and .min.js), with acorn.
// Each violation: `file:line: rule: snippet`. Exit 1 if there is any.
//
// Usage: node scripts/check-subset.mjs [--ts-only] [--js FILE...]
// Library (for tests):
//   checkCore()                       -> { files, violations }   the real core, TS side
//   checkTsSources({ name: code })    -> violations               in-memory fixtures (type-checked)
//   checkEmittedJs(js, name)          -> violations               one ES5 script
// A violation is { file, line, rule, snippet, text }.

import ts from "typescript";
import * as acorn from "acorn";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const coreEntry = path.join(repoRoot, "device-sim/core/index.ts");

// ---------------------------------------------------------------------------------------
// Rule tables (shared by both walkers where the names mean the same thing)

// Global identifiers the core must never reference.
const FORBIDDEN_GLOBALS = new Map([
  ["BigInt", "bigint"], ["BigInt64Array", "bigint"], ["BigUint64Array", "bigint"],
  ["Map", "map-set"], ["Set", "map-set"], ["WeakMap", "map-set"], ["WeakSet", "map-set"], ["WeakRef", "map-set"],
  ["Symbol", "symbol"], ["Proxy", "proxy-reflect"], ["Reflect", "proxy-reflect"],
  ["Promise", "promise"], ["RegExp", "regexp"], ["JSON", "json"], ["DataView", "dataview"],
  ["Date", "date"], // time comes from the verifier configuration, never from the engine
  ["eval", "eval"], ["Function", "function-constructor"], ["arguments", "arguments"],
  ["require", "node-api"], ["module", "node-api"], ["exports", "node-api"], ["__dirname", "node-api"],
  ["__filename", "node-api"], ["process", "node-api"], ["Buffer", "node-api"], ["global", "node-api"],
  ["console", "host-api"], ["setTimeout", "host-api"], ["setInterval", "host-api"], ["setImmediate", "host-api"],
  ["clearTimeout", "host-api"], ["clearInterval", "host-api"], ["queueMicrotask", "host-api"],
  ["globalThis", "host-api"], ["window", "host-api"], ["TextEncoder", "host-api"], ["TextDecoder", "host-api"],
  ["atob", "host-api"], ["btoa", "host-api"], ["structuredClone", "host-api"], ["crypto", "host-api"],
]);

// Static members: `Owner.member` forbidden (null = every member of that owner).
const ES5_NUMBER_STATICS = new Set(["MAX_VALUE", "MIN_VALUE", "NaN", "POSITIVE_INFINITY", "NEGATIVE_INFINITY"]);
const FORBIDDEN_STATICS = {
  Math: new Set(["imul", "trunc", "clz32", "pow", "fround", "sign", "log2", "log10", "log1p", "expm1", "hypot",
    "cbrt", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh"]),
  Array: new Set(["from", "of"]),
  Object: new Set(["freeze", "seal", "preventExtensions", "isFrozen", "isSealed", "defineProperty",
    "defineProperties", "setPrototypeOf", "getOwnPropertyDescriptor", "getOwnPropertyDescriptors", "assign",
    "entries", "values", "fromEntries", "getOwnPropertySymbols", "is"]),
  String: new Set(["fromCodePoint", "raw"]),
  ArrayBuffer: null, // isView, ...
  SharedArrayBuffer: null, Atomics: null,
  Int8Array: null, Uint8Array: null, Uint8ClampedArray: null, Int16Array: null, Uint16Array: null,
  Int32Array: null, Uint32Array: null, Float32Array: null, Float64Array: null, // .from/.of/BYTES_PER_ELEMENT
};

// Method names that exist on typed arrays (and often arrays/strings) but not on all three
// engines' typed arrays. Name-based in JS (no types there); the core does not need them.
const TYPED_ONLY_METHODS = new Set(["fill", "slice", "copyWithin", "indexOf", "lastIndexOf", "includes", "map",
  "forEach", "reduce", "reduceRight", "join", "reverse", "sort", "every", "some", "find", "findIndex", "findLast",
  "findLastIndex", "filter", "entries", "keys", "values", "at", "toReversed", "toSorted", "with", "toLocaleString"]);

// ES2015+ methods (strings, arrays) missing from Duktape 2.7 or Espruino. Name-based.
const LATE_METHODS = new Set(["padStart", "padEnd", "codePointAt", "normalize", "trimStart", "trimEnd", "startsWith",
  "endsWith", "repeat", "flat", "flatMap", "matchAll", "replaceAll", "localeCompare"]);

// Properties allowed on values whose static type is a typed array / ArrayBuffer.
const TYPED_ARRAY_TYPES = new Set(["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
  "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]);
const TYPED_ARRAY_ALLOWED = new Set(["set", "subarray", "length", "byteLength", "byteOffset", "buffer"]);
const BUFFER_TYPES = new Set(["ArrayBuffer", "SharedArrayBuffer", "ArrayBufferLike"]);
const BUFFER_ALLOWED = new Set(["byteLength"]);

const BAD_NAMES = new Set(["of", "static", "undefined"]);

// Helpers that esbuild / tsc emit for constructs outside the subset.
const EMIT_HELPERS = new Set(["__extends", "__assign", "__rest", "__spreadArray", "__spread", "__spreadArrays",
  "__generator", "__awaiter", "__values", "__read", "__await", "__asyncValues", "__makeTemplateObject",
  "__decorate", "__classPrivateFieldGet", "__classPrivateFieldSet", "__defProp", "__defProps", "__export",
  "__publicField", "__privateAdd", "__pow", "__toCommonJS", "__toESM", "__getOwnPropNames", "__commonJS", "__esm",
  "__name", "__async", "__objRest", "__spreadValues", "__spreadProps", "__template", "__reExport", "__copyProps",
  "__knownSymbol", "__using", "__callDispose", "__setFunctionName", "__esDecorate", "__runInitializers",
  "__propKey", "__addDisposableResource", "__disposeResources", "__importStar", "__importDefault", "__createBinding"]);

function snippetOf(lineText) {
  const s = lineText.trim().replace(/\s+/g, " ");
  return s.length > 100 ? s.slice(0, 97) + "..." : s;
}

function makeViolation(file, line, rule, snippet) {
  return { file, line, rule, snippet, text: file + ":" + line + ": " + rule + ": " + snippet };
}

// ---------------------------------------------------------------------------------------
// (a) TypeScript source

function loadCompilerOptions() {
  const configPath = path.join(repoRoot, "tsconfig.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    },
  });
  const options = { ...parsed.options, noEmit: true };
  delete options.outDir;
  delete options.declaration;
  return options;
}

function isFunctionLike(node) {
  return ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) || ts.isClassStaticBlockDeclaration(node);
}

function enclosingFunction(node) {
  let n = node.parent;
  while (n && !isFunctionLike(n)) n = n.parent;
  return n;
}

function isTypeOnlyPosition(node) {
  for (let n = node.parent; n; n = n.parent) {
    if (ts.isTypeNode(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n) ||
        ts.isImportDeclaration(n) || ts.isExportDeclaration(n) || ts.isImportSpecifier(n) ||
        ts.isExportSpecifier(n) || ts.isHeritageClause(n) && n.token === ts.SyntaxKind.ImplementsKeyword) return true;
    if (ts.isStatement(n) || isFunctionLike(n)) return false;
  }
  return false;
}

// A real declaration of this symbol in user code (not in a lib or @types .d.ts, not an
// ambient `declare const require: ...` that only pretends the engine has it)?
function declaredInUserCode(sym) {
  if (!sym) return false;
  const decls = sym.getDeclarations() || [];
  return decls.some((d) => !d.getSourceFile().isDeclarationFile &&
    (ts.getCombinedModifierFlags(d) & ts.ModifierFlags.Ambient) === 0);
}

function typeNames(type) {
  const out = [];
  const visit = (t) => {
    if (t.isUnionOrIntersection()) { for (const m of t.types) visit(m); return; }
    const s = t.getSymbol() || t.aliasSymbol;
    if (s) out.push(s.getName());
  };
  visit(type);
  return out;
}

function checkTsFile(sf, checker, report) {
  const line = (node) => sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
  const lineText = (node) => {
    const l = line(node) - 1;
    const starts = sf.getLineStarts();
    return sf.text.slice(starts[l], l + 1 < starts.length ? starts[l + 1] : sf.text.length);
  };
  const flag = (node, rule) => report(makeViolation(sf.fileName, line(node), rule, snippetOf(lineText(node))));
  const K = ts.SyntaxKind;

  function checkBindingName(nameNode) {
    if (nameNode && ts.isIdentifier(nameNode) && BAD_NAMES.has(nameNode.text)) flag(nameNode, "reserved-name");
  }

  function checkMemberName(node, objExpr, name) {
    // Static members of built-in owners (Math.imul, Array.from, Uint8Array.from, ...).
    if (ts.isIdentifier(objExpr) && Object.prototype.hasOwnProperty.call(FORBIDDEN_STATICS, objExpr.text) &&
        !declaredInUserCode(checker.getSymbolAtLocation(objExpr))) {
      const set = FORBIDDEN_STATICS[objExpr.text];
      if (set === null || set.has(name)) flag(node, "builtin-static");
    }
    if (ts.isIdentifier(objExpr) && objExpr.text === "Number" &&
        !declaredInUserCode(checker.getSymbolAtLocation(objExpr)) && !ES5_NUMBER_STATICS.has(name)) {
      flag(node, "builtin-static");
    }
    if (name === "prototype") flag(node, "prototype-access");
    if (name === "lastIndexOf") { flag(node, "typed-array-method"); return; }
    if (BAD_NAMES.has(name) && name !== "undefined") flag(node, "reserved-name");
    // Type-based typed-array rule.
    const names = typeNames(checker.getTypeAtLocation(objExpr));
    if (names.some((n) => TYPED_ARRAY_TYPES.has(n)) && !TYPED_ARRAY_ALLOWED.has(name)) {
      flag(node, "typed-array-method");
      return;
    }
    if (names.some((n) => BUFFER_TYPES.has(n)) && !BUFFER_ALLOWED.has(name)) {
      flag(node, "typed-array-method");
      return;
    }
    // Name-based rule (the emitted JS gets the same check; report it at the TS line).
    if (TYPED_ONLY_METHODS.has(name) && ts.isCallExpression(node.parent) && node.parent.expression === node) {
      flag(node, "typed-array-method");
    }
    if (LATE_METHODS.has(name) && ts.isCallExpression(node.parent) && node.parent.expression === node) {
      flag(node, "es2015-method");
    }
  }

  // Hoisting: Espruino does not hoist function declarations. A reference that runs in the
  // same function body as the declaration, textually before it, is an error.
  function checkHoisting(id) {
    const sym = checker.getSymbolAtLocation(id);
    if (!sym) return;
    const decl = sym.valueDeclaration;
    if (!decl || !ts.isFunctionDeclaration(decl) || decl.getSourceFile() !== sf) return;
    if (id.getStart(sf) >= decl.getStart(sf)) return;
    if (isTypeOnlyPosition(id)) return;
    if (enclosingFunction(id) === enclosingFunction(decl)) flag(id, "hoisting");
  }

  function visit(node) {
    switch (node.kind) {
      case K.BigIntLiteral: flag(node, "bigint"); break;
      case K.RegularExpressionLiteral: flag(node, "regexp"); break;
      case K.LabeledStatement: flag(node, "labelled-statement"); break;
      case K.TryStatement: flag(node, "try-catch"); break;
      case K.ThrowStatement: flag(node, "throw"); break;
      case K.WithStatement: flag(node, "with"); break;
      case K.DebuggerStatement: flag(node, "debugger"); break;
      case K.ForOfStatement: flag(node, "for-of"); break;
      case K.SpreadElement: case K.SpreadAssignment: flag(node, "spread"); break;
      case K.ObjectBindingPattern: case K.ArrayBindingPattern: flag(node, "destructuring"); break;
      case K.YieldExpression: flag(node, "generator"); break;
      case K.AwaitExpression: flag(node, "async"); break;
      case K.GetAccessor: case K.SetAccessor: flag(node, "getter-setter"); break;
      case K.TemplateExpression: case K.TaggedTemplateExpression: flag(node, "template-literal"); break;
      case K.PrivateIdentifier: flag(node, "private-field"); break;
      case K.ClassStaticBlockDeclaration: flag(node, "class-static-block"); break;
      case K.Decorator: flag(node, "decorator"); break;
      case K.MetaProperty: flag(node, "meta-property"); break;
      case K.NonNullExpression: break;
      case K.HeritageClause:
        if (node.token === K.ExtendsKeyword && (ts.isClassDeclaration(node.parent) || ts.isClassExpression(node.parent))) {
          flag(node, "class-extends");
        }
        break;
      case K.Parameter:
        if (node.dotDotDotToken) flag(node, "rest-parameter");
        if (node.initializer) flag(node, "default-parameter");
        checkBindingName(node.name);
        break;
      case K.VariableDeclaration: case K.FunctionDeclaration: case K.FunctionExpression: case K.ClassDeclaration:
      case K.ClassExpression: case K.BindingElement:
        checkBindingName(node.name);
        break;
      case K.PropertyAssignment: case K.PropertyDeclaration: case K.MethodDeclaration: case K.ShorthandPropertyAssignment:
        checkBindingName(node.name);
        break;
      case K.BinaryExpression: {
        const op = node.operatorToken.kind;
        if (op === K.AsteriskAsteriskToken || op === K.AsteriskAsteriskEqualsToken) flag(node, "exponent");
        if (op === K.QuestionQuestionToken || op === K.QuestionQuestionEqualsToken) flag(node, "nullish");
        if (op === K.InstanceOfKeyword) flag(node, "instanceof");
        if ((op === K.LessThanLessThanToken || op === K.GreaterThanGreaterThanToken ||
             op === K.GreaterThanGreaterThanGreaterThanToken || op === K.LessThanLessThanEqualsToken ||
             op === K.GreaterThanGreaterThanEqualsToken || op === K.GreaterThanGreaterThanGreaterThanEqualsToken) &&
            ts.isNumericLiteral(node.right) && Number(node.right.text) >= 32) flag(node, "shift-count");
        if (op >= K.FirstAssignment && op <= K.LastAssignment) {
          if (ts.isPropertyAccessExpression(node.left) && node.left.name.text === "length") flag(node, "length-assign");
          if (op === K.EqualsToken && (ts.isObjectLiteralExpression(node.left) || ts.isArrayLiteralExpression(node.left))) {
            flag(node, "destructuring");
          }
        }
        break;
      }
      case K.PrefixUnaryExpression: case K.PostfixUnaryExpression:
        if ((node.operator === K.PlusPlusToken || node.operator === K.MinusMinusToken) &&
            ts.isPropertyAccessExpression(node.operand) && node.operand.name.text === "length") flag(node, "length-assign");
        break;
      case K.PropertyAccessExpression:
        if (node.questionDotToken) flag(node, "optional-chaining");
        checkMemberName(node, node.expression, node.name.text);
        break;
      case K.ElementAccessExpression:
        if (node.questionDotToken) flag(node, "optional-chaining");
        if (ts.isStringLiteralLike(node.argumentExpression)) checkMemberName(node, node.expression, node.argumentExpression.text);
        break;
      case K.CallExpression:
        if (node.questionDotToken) flag(node, "optional-chaining");
        if (node.expression.kind === K.ImportKeyword) flag(node, "dynamic-import");
        break;
      case K.ImportDeclaration: case K.ExportDeclaration: {
        const spec = node.moduleSpecifier;
        if (spec && ts.isStringLiteral(spec) && !spec.text.startsWith(".")) flag(node, "non-relative-import");
        if (ts.isImportDeclaration(node) && node.importClause && node.importClause.namedBindings &&
            ts.isNamespaceImport(node.importClause.namedBindings) && !node.importClause.isTypeOnly) flag(node, "namespace-import");
        if (ts.isExportDeclaration(node) && !node.exportClause && !node.isTypeOnly) flag(node, "export-star");
        break;
      }
      case K.ImportEqualsDeclaration: flag(node, "node-api"); break;
      case K.Identifier: {
        const p = node.parent;
        const isPropName = (ts.isPropertyAccessExpression(p) && p.name === node) ||
          ((ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) ||
            ts.isPropertySignature(p) || ts.isMethodSignature(p) || ts.isEnumMember(p)) && p.name === node) ||
          ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isQualifiedName(p) || ts.isTypeReferenceNode(p);
        if (!isPropName && FORBIDDEN_GLOBALS.has(node.text) && !isTypeOnlyPosition(node)) {
          const sym = checker.getSymbolAtLocation(ts.isShorthandPropertyAssignment(p) ? p.name : node);
          const real = ts.isShorthandPropertyAssignment(p) ? checker.getShorthandAssignmentValueSymbol(p) : sym;
          if (!declaredInUserCode(real)) flag(node, FORBIDDEN_GLOBALS.get(node.text));
        }
        if (!isPropName && EMIT_HELPERS.has(node.text)) flag(node, "emit-helper");
        if (!isPropName) checkHoisting(node);
        break;
      }
    }
    // Modifiers: async functions.
    if (ts.canHaveModifiers(node)) {
      const mods = ts.getModifiers(node) || [];
      for (const m of mods) {
        if (m.kind === K.AsyncKeyword) flag(node, "async");
        if (m.kind === K.AccessorKeyword) flag(node, "getter-setter");
      }
    }
    if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node)) && node.asteriskToken) {
      flag(node, "generator");
    }
    ts.forEachChild(node, visit);
  }
  visit(sf);
}

function diagnosticsAsViolations(program, sourceFiles, report) {
  const diags = [];
  for (const sf of sourceFiles) {
    diags.push(...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf));
  }
  for (const d of diags) {
    if (d.category !== ts.DiagnosticCategory.Error) continue;
    const file = d.file ? d.file.fileName : "(tsc)";
    const ln = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    report(makeViolation(file, ln, "tsc", snippetOf("TS" + d.code + " " + ts.flattenDiagnosticMessageText(d.messageText, " "))));
  }
}

// The core's source files: everything the entry's import graph reaches, minus .d.ts.
// Files outside the device-safe folders (DEVICE_SAFE_FOLDERS) are themselves violations.
// The folders whose code runs on devices: constrained TypeScript only (docs/ARCHITECTURE.md).
export const DEVICE_SAFE_FOLDERS = ["device-sim/core/", "formats/device-safe/"];

function coreSourceFiles(program) {
  return program.getSourceFiles().filter((sf) => !sf.isDeclarationFile && !sf.fileName.includes("/node_modules/"));
}

function relative(file) {
  const r = path.relative(repoRoot, file);
  return r.startsWith("..") ? file : r;
}

export function checkCore(entry = coreEntry) {
  const options = loadCompilerOptions();
  const program = ts.createProgram({ rootNames: [entry], options });
  const checker = program.getTypeChecker();
  const files = coreSourceFiles(program);
  const violations = [];
  const report = (v) => {
    const rel = relative(v.file);
    violations.push(makeViolation(rel, v.line, v.rule, v.snippet));
  };
  for (const sf of files) {
    const rel = relative(sf.fileName);
    if (!DEVICE_SAFE_FOLDERS.some((folder) => rel.startsWith(folder))) {
      report(makeViolation(sf.fileName, 1, "outside-core", "imported into the device core"));
    }
    checkTsFile(sf, checker, report);
  }
  diagnosticsAsViolations(program, files, report);
  return { files: files.map((sf) => relative(sf.fileName)), violations };
}

// Fixtures: { "name.ts": code }. Each becomes a virtual module in device-sim/core/ (so
// relative imports of real core files work), type-checked with the repo's options.
export function checkTsSources(sources) {
  const options = loadCompilerOptions();
  const virtual = new Map();
  for (const name of Object.keys(sources)) {
    virtual.set(path.join(repoRoot, "device-sim/core/__fixture__", name), sources[name] + "\nexport {};\n");
  }
  const host = ts.createCompilerHost(options);
  const origGet = host.getSourceFile.bind(host);
  const origExists = host.fileExists.bind(host);
  const origRead = host.readFile.bind(host);
  host.getSourceFile = (f, lang, onErr, create) =>
    virtual.has(f) ? ts.createSourceFile(f, virtual.get(f), lang, true) : origGet(f, lang, onErr, create);
  host.fileExists = (f) => virtual.has(f) || origExists(f);
  host.readFile = (f) => (virtual.has(f) ? virtual.get(f) : origRead(f));
  const program = ts.createProgram({ rootNames: [...virtual.keys()], options, host });
  const checker = program.getTypeChecker();
  const violations = [];
  const report = (v) => {
    const name = virtual.has(v.file) ? path.basename(v.file) : relative(v.file);
    violations.push(makeViolation(name, v.line, v.rule, v.snippet));
  };
  const files = [...virtual.keys()].map((f) => program.getSourceFile(f));
  for (const sf of files) checkTsFile(sf, checker, report);
  diagnosticsAsViolations(program, files, report);
  return violations;
}

// ---------------------------------------------------------------------------------------
// (b) Emitted ES5 JavaScript

function walkJs(node, parent, fn) {
  fn(node, parent);
  for (const key of Object.keys(node)) {
    if (key === "loc" || key === "start" || key === "end") continue;
    const v = node[key];
    if (Array.isArray(v)) {
      for (const c of v) if (c && typeof c.type === "string") walkJs(c, node, fn);
    } else if (v && typeof v === "object" && typeof v.type === "string") {
      walkJs(v, node, fn);
    }
  }
}

export function checkEmittedJs(js, name = "emitted.js") {
  const violations = [];
  let ast;
  try {
    ast = acorn.parse(js, { ecmaVersion: 5, sourceType: "script", locations: true });
  } catch (e) {
    const ln = e.loc ? e.loc.line : 0;
    return [makeViolation(name, ln, "not-es5", snippetOf(e.message))];
  }
  const lines = js.split("\n");
  const flag = (node, rule) => {
    const ln = node.loc.start.line;
    let text = lines[ln - 1] || "";
    if (text.length > 200) text = text.slice(Math.max(0, node.loc.start.column - 40), node.loc.start.column + 60);
    violations.push(makeViolation(name, ln, rule, snippetOf(text)));
  };
  const memberName = (m) => (!m.computed ? m.property.name : (m.property.type === "Literal" && typeof m.property.value === "string" ? m.property.value : null));

  walkJs(ast, null, (node, parent) => {
    switch (node.type) {
      case "Property":
        if (node.kind === "get" || node.kind === "set") flag(node, "getter-setter");
        if (!node.computed && node.key.type === "Identifier" && BAD_NAMES.has(node.key.name)) flag(node, "reserved-name");
        break;
      case "LabeledStatement": flag(node, "labelled-statement"); break;
      case "TryStatement": flag(node, "try-catch"); break;
      case "ThrowStatement": flag(node, "throw"); break;
      case "WithStatement": flag(node, "with"); break;
      case "DebuggerStatement": flag(node, "debugger"); break;
      case "Literal": if (node.regex) flag(node, "regexp"); break;
      case "BinaryExpression":
        if (node.operator === "instanceof") flag(node, "instanceof");
        if ((node.operator === "<<" || node.operator === ">>" || node.operator === ">>>") && node.right.type === "Literal" &&
            typeof node.right.value === "number" && node.right.value >= 32) flag(node, "shift-count");
        break;
      case "AssignmentExpression":
        if (node.left.type === "MemberExpression" && memberName(node.left) === "length") flag(node, "length-assign");
        break;
      case "UpdateExpression":
        if (node.argument.type === "MemberExpression" && memberName(node.argument) === "length") flag(node, "length-assign");
        break;
      case "VariableDeclarator":
        if (BAD_NAMES.has(node.id.name)) flag(node, "reserved-name");
        break;
      case "FunctionDeclaration": case "FunctionExpression":
        if (node.id && BAD_NAMES.has(node.id.name)) flag(node, "reserved-name");
        for (const p of node.params) if (BAD_NAMES.has(p.name)) flag(p, "reserved-name");
        break;
      case "MemberExpression": {
        const nm = memberName(node);
        if (nm === null) break;
        if (node.object.type === "Identifier" && Object.prototype.hasOwnProperty.call(FORBIDDEN_STATICS, node.object.name)) {
          const set = FORBIDDEN_STATICS[node.object.name];
          if (set === null || set.has(nm)) flag(node, "builtin-static");
        }
        if (node.object.type === "Identifier" && node.object.name === "Number" && !ES5_NUMBER_STATICS.has(nm)) flag(node, "builtin-static");
        if (nm === "lastIndexOf") flag(node, "typed-array-method");
        else if (TYPED_ONLY_METHODS.has(nm) && parent && parent.type === "CallExpression" && parent.callee === node) {
          flag(node, "typed-array-method");
        }
        if (LATE_METHODS.has(nm) && parent && parent.type === "CallExpression" && parent.callee === node) flag(node, "es2015-method");
        if (nm === "of" || nm === "static") flag(node, "reserved-name");
        break;
      }
      case "Identifier": {
        const isPropName = parent && ((parent.type === "MemberExpression" && parent.property === node && !parent.computed) ||
          (parent.type === "Property" && parent.key === node && !parent.computed));
        if (isPropName) break;
        if (FORBIDDEN_GLOBALS.has(node.name)) flag(node, FORBIDDEN_GLOBALS.get(node.name));
        if (EMIT_HELPERS.has(node.name)) flag(node, "emit-helper");
        break;
      }
    }
  });
  checkJsHoisting(ast, flag);
  return violations;
}

// Espruino does not hoist function declarations: within one function body (or the
// program), a function declared there must not be referenced by code of that same body
// that comes before the declaration. References from nested functions are fine (they run
// later, when called).
function checkJsHoisting(ast, flag) {
  const bodies = [];
  walkJs(ast, null, (node) => {
    if (node.type === "Program") bodies.push(node.body);
    if ((node.type === "FunctionDeclaration" || node.type === "FunctionExpression") && node.body) bodies.push(node.body.body);
  });
  for (const stmts of bodies) {
    const declared = new Map();
    for (const st of stmts) if (st.type === "FunctionDeclaration" && st.id) declared.set(st.id.name, st.start);
    if (declared.size === 0) continue;
    const visit = (node, parent) => {
      if (node.type === "FunctionDeclaration" || node.type === "FunctionExpression") return; // runs later
      if (node.type === "Identifier") {
        const isPropName = parent && ((parent.type === "MemberExpression" && parent.property === node && !parent.computed) ||
          (parent.type === "Property" && parent.key === node && !parent.computed));
        if (!isPropName && declared.has(node.name) && node.start < declared.get(node.name)) flag(node, "hoisting");
      }
      for (const key of Object.keys(node)) {
        if (key === "loc") continue;
        const v = node[key];
        if (Array.isArray(v)) { for (const c of v) if (c && typeof c.type === "string") visit(c, node); }
        else if (v && typeof v === "object" && typeof v.type === "string") visit(v, node);
      }
    };
    for (const st of stmts) visit(st, null);
  }
}

// ---------------------------------------------------------------------------------------
// CLI

async function main(argv) {
  const all = [];
  const { files, violations } = checkCore();
  all.push(...violations);
  let jsChecked = [];
  if (!argv.includes("--ts-only")) {
    const jsIdx = argv.indexOf("--js");
    if (jsIdx >= 0) {
      for (const f of argv.slice(jsIdx + 1)) {
        if (!existsSync(f)) { all.push(makeViolation(f, 0, "missing", "no such file")); continue; }
        all.push(...checkEmittedJs(readFileSync(f, "utf8"), relative(path.resolve(f))));
        jsChecked.push(f);
      }
    } else {
      // Emit fresh (in memory) so the check never looks at a stale build/.
      const { emitCoreEs5 } = await import("./build-core-es5.mjs");
      const outs = await emitCoreEs5();
      for (const o of outs) {
        all.push(...checkEmittedJs(o.text, relative(o.path)));
        jsChecked.push(relative(o.path) + " (fresh emit)");
      }
    }
  }
  for (const v of all) process.stdout.write(v.text + "\n");
  process.stdout.write("check-subset: " + files.length + " TS files (" + files.join(", ") + ")" +
    (jsChecked.length ? ", JS: " + jsChecked.join(", ") : "") + ": " + all.length + " violation(s)\n");
  return all.length === 0 ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
    process.stderr.write("check-subset: " + (e && e.stack ? e.stack : String(e)) + "\n");
    process.exitCode = 2;
  });
}
