// Tests syntaxes/reward.tmLanguage.json against the repository, so that it cannot drift from
// grammar/reward.pest. Run it with `bash test/run.sh` (or `node test/tokenize.mjs` once
// `npm ci` has installed vscode-textmate and vscode-oniguruma). It fails (exit 1), printing
// `file:line:column: message` for each problem, when:
//
// 1. a regex of the grammar (match, begin, end) does not compile with Oniguruma;
// 2. in any examples/*.reward, stdlib/*.reward or tests/fixtures/*.reward file
//    - a character other than a space, a tab or a line break has no scope but `source.reward`
//      and `meta.*` ones (the regions: blocks, parentheses, declarations). Strings, comments
//      and regexes pass by their own scopes; everything else (names, numbers, operators and
//      punctuation alike) must be recognised by some rule, so there is no bare character;
//    - a token is scoped `invalid.*`;
//    - a line takes more than LINE_TIME_LIMIT_MS to tokenise (vscode-textmate stops early, or
//      the line is measured over it); the checks run in a worker thread that a watchdog stops
//      when one line or snippet runs past HANG_LIMIT_MS (a regex that backtracks for ever
//      cannot be interrupted from inside), naming the line it was on;
// 3. a keyword or operator of grammar/reward.pest (the words and symbols of the rules `kw_*`,
//    `keyword`, `op_*`, `ltl_unary`, `ltl_infix` and `ltl_keyword`, read at test time) is not
//    scoped as a keyword (`keyword.*`, `storage.*`, or `constant.language.*` for true/false/none)
//    in a synthetic snippet that puts it where the pest grammar allows it; and, the other way
//    round, a word in a rule of the TextMate grammar that gives a keyword scope is not one of
//    those words (a keyword dropped from the language must not stay highlighted);
// 4. a builtin function (the non-internal names of runtime/src/builtins.rs, the aggregate names
//    of compiler/src/ir/mod.rs and the formula uses of compiler/src/check/ltl.rs, read at test
//    time) is not scoped `support.function.builtin` at a call; a name the grammar lists that is
//    none of these is only a warning (it does no harm, and lets the list run ahead of a branch);
// 5. one of the targeted assertions at the end of this file fails (regex versus division,
//    triple-quoted strings over several lines, comments after code, doc comments, contextual
//    keywords, declared names);
// 6. package.json does not contribute the grammar and the language configuration, extension.js
//    does not compile, or a pattern of language-configuration.json does not compile or misjudges
//    one of a few lines (indentation after `{`, `(`, `[`; dedent at `}`, `]`, `)`).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { Worker, isMainThread, parentPort } from "node:worker_threads";

const require = createRequire(import.meta.url);
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const LINE_TIME_LIMIT_MS = 500;
const HANG_LIMIT_MS = 10_000;

if (isMainThread) {
  // The watchdog: the worker reports where it is before each line it tokenises.
  const worker = new Worker(new URL(import.meta.url));
  let where = "loading the grammar";
  let since = Date.now();
  let done = false;
  worker.on("message", (m) => {
    if (m.type === "at") {
      where = m.where;
      since = Date.now();
    } else if (m.type === "result") {
      done = true;
      clearInterval(timer);
      worker.terminate();
      for (const line of m.stderr) console.error(line);
      for (const line of m.stdout) console.log(line);
      process.exitCode = m.ok ? 0 : 1;
    }
  });
  worker.on("error", (e) => {
    console.error(e);
    process.exitCode = 1;
  });
  const timer = setInterval(() => {
    if (Date.now() - since > HANG_LIMIT_MS) {
      console.error(`${where}: tokenising took over ${HANG_LIMIT_MS} ms; stopped`);
      process.exitCode = 1;
      clearInterval(timer);
      worker.terminate();
    }
  }, 100);
  worker.on("exit", (code) => {
    clearInterval(timer);
    if (!done && !process.exitCode) {
      console.error(`the checks ended without a result (exit code ${code})`);
      process.exitCode = 1;
    }
  });
} else {
  // The checks, in the worker.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const extensionDir = path.resolve(here, "..");
  const repo = path.resolve(extensionDir, "..", "..");
  const grammarPath = path.join(extensionDir, "syntaxes", "reward.tmLanguage.json");

  const failures = [];
  const warnings = [];
  const fail = (where, message) => failures.push(`${where}: ${message}`);
  const rel = (p) => path.relative(repo, p);

  // ---------------------------------------------------------------- set-up

  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const onigLib = Promise.resolve({
    createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
    createOnigString: (s) => new oniguruma.OnigString(s),
  });

  const grammarText = fs.readFileSync(grammarPath, "utf8");
  const rawGrammar = JSON.parse(grammarText);

  // 1. Every regex compiles (vscode-textmate would only find out when a rule is first tried).
  let regexCount = 0;
  (function walk(node, where) {
    if (Array.isArray(node)) {
      node.forEach((n, i) => walk(n, `${where}[${i}]`));
    } else if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        if (["match", "begin", "end", "while"].includes(key) && typeof value === "string") {
          regexCount++;
          try {
            new oniguruma.OnigScanner([value]).dispose();
          } catch (e) {
            fail(`${rel(grammarPath)} ${where}.${key}`, `regex does not compile: ${e.message}: ${value}`);
          }
        } else {
          walk(value, `${where}.${key}`);
        }
      }
    }
  })(rawGrammar, "$");

  if (failures.length > 0) {
    // vscode-textmate would throw at the first line that tries the broken rule.
    parentPort.postMessage({ type: "result", ok: false, stdout: [], stderr: [...failures, `\nFAIL: ${failures.length} regex(es) do not compile`] });
    await new Promise(() => {}); // the main thread ends the worker
  }

  const registry = new vsctm.Registry({
    onigLib,
    loadGrammar: async (scopeName) =>
      scopeName === "source.reward" ? vsctm.parseRawGrammar(grammarText, grammarPath) : null,
  });
  const grammar = await registry.loadGrammar("source.reward");
  if (!grammar) throw new Error("could not load source.reward");

  /** Tokenises `text`, returning per line `{ line, tokens, ms, stoppedEarly }`; `name` (a file) or
   * the text itself (a snippet) is what the watchdog reports if it hangs. */
  function tokenize(text, name) {
    const lines = text.split(/\r?\n/);
    let state = vsctm.INITIAL;
    const out = [];
    for (const [i, line] of lines.entries()) {
      parentPort.postMessage({ type: "at", where: name ? `${name}:${i + 1}` : `snippet ${JSON.stringify(text)}` });
      const t0 = performance.now();
      const r = grammar.tokenizeLine(line, state, LINE_TIME_LIMIT_MS);
      const ms = performance.now() - t0;
      out.push({ line, tokens: r.tokens, ms, stoppedEarly: r.stoppedEarly });
      state = r.ruleStack;
      if (r.stoppedEarly || ms > LINE_TIME_LIMIT_MS) break; // the rest would be as slow, or wrong
    }
    return out;
  }

  const column = (line, index) => [...line.slice(0, index)].length + 1;
  const isBareScope = (s) => s === "source.reward" || s.startsWith("meta.");
  const isWhitespace = (c) => c === " " || c === "\t" || c === "\r" || c === "\n";

  // ---------------------------------------------------------------- 2. the repository's files

  function reward_files(dir) {
    const abs = path.join(repo, dir);
    return fs
      .readdirSync(abs)
      .filter((f) => f.endsWith(".reward"))
      .sort()
      .map((f) => path.join(abs, f));
  }
  const files = [...reward_files("examples"), ...reward_files("stdlib"), ...reward_files("tests/fixtures")];
  if (files.length === 0) fail(repo, "no .reward files found");

  let lineCount = 0;
  let slowest = { ms: 0, where: "" };
  const started = performance.now();
  for (const file of files) {
    if (failures.some((f) => f.includes("tokenising the line took"))) {
      fail(rel(file), "not tokenised: the grammar is too slow (see above)");
      continue;
    }
    const result = tokenize(fs.readFileSync(file, "utf8"), rel(file));
    result.forEach(({ line, tokens, ms, stoppedEarly }, i) => {
      lineCount++;
      const where = (index) => `${rel(file)}:${i + 1}:${column(line, index)}`;
      if (ms > slowest.ms) slowest = { ms, where: where(0) };
      if (stoppedEarly || ms > LINE_TIME_LIMIT_MS) {
        fail(where(0), `tokenising the line took over ${LINE_TIME_LIMIT_MS} ms (${ms.toFixed(0)} ms${stoppedEarly ? ", stopped early" : ""})`);
        return;
      }
      for (const token of tokens) {
        const invalid = token.scopes.find((s) => s.startsWith("invalid"));
        if (invalid) fail(where(token.startIndex), `${invalid}: ${JSON.stringify(line.slice(token.startIndex, token.endIndex))}`);
        if (token.scopes.every(isBareScope)) {
          const end = Math.min(token.endIndex, line.length);
          for (let k = token.startIndex; k < end; k++) {
            if (!isWhitespace(line[k])) {
              fail(where(k), `no scope for ${JSON.stringify(line.slice(k, end).trimEnd())} (only ${token.scopes.join(" ")})`);
              break;
            }
          }
        }
      }
    });
  }
  const corpusMs = performance.now() - started;

  // ---------------------------------------------------------------- helpers for snippets

  /**
   * The scopes of every character of `needle` (its `occurrence`-th appearance, 0-based) in the
   * tokenised `snippet`, with whether tokens begin and end exactly at its edges.
   */
  function inspect(snippet, needle, occurrence = 0) {
    let from = -1;
    for (let n = 0; n <= occurrence; n++) {
      from = snippet.indexOf(needle, from + 1);
      if (from < 0) throw new Error(`${JSON.stringify(needle)} is not in ${JSON.stringify(snippet)}`);
    }
    const before = snippet.slice(0, from).split("\n");
    const lineNo = before.length - 1;
    const start = before[lineNo].length;
    const end = start + needle.length;
    const { tokens } = tokenize(snippet)[lineNo];
    const chars = [];
    let aligned = true;
    for (const token of tokens) {
      if (token.endIndex <= start || token.startIndex >= end) continue;
      if (token.startIndex < start || token.endIndex > end) aligned = false;
      for (let k = Math.max(start, token.startIndex); k < Math.min(end, token.endIndex); k++) {
        chars.push(token.scopes);
      }
    }
    return { chars, aligned, every: (p) => chars.every((scopes) => scopes.some(p)), some: (p) => chars.some((scopes) => scopes.some(p)) };
  }

  const isKeywordScope = (s) => s.startsWith("keyword.") || s.startsWith("storage.") || s.startsWith("constant.language.");

  /** True when `word`, put in for `$K` in `template`, is one keyword token. */
  function keywordIn(template, word) {
    const snippet = template.replace("$K", word);
    const marker = template.indexOf("$K");
    const occurrence = countOccurrences(snippet.slice(0, marker), word);
    const r = inspect(snippet, word, occurrence);
    return r.aligned && r.every(isKeywordScope);
  }
  function countOccurrences(s, needle) {
    let n = 0;
    for (let i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
    return n;
  }

  // ---------------------------------------------------------------- 3. pest keywords

  const pestPath = path.join(repo, "grammar", "reward.pest");
  const pest = fs.readFileSync(pestPath, "utf8");

  /** The bodies of the pest rules whose names satisfy `wanted`, as `{ name, line, body }`. */
  function pestRules(wanted) {
    const rules = [];
    const head = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*[@$_!]?\{/gm;
    for (let m; (m = head.exec(pest)); ) {
      if (!wanted(m[1])) continue;
      let depth = 1;
      let i = head.lastIndex;
      for (; i < pest.length && depth > 0; i++) {
        const c = pest[i];
        if (c === '"') {
          for (i++; i < pest.length && pest[i] !== '"'; i++) if (pest[i] === "\\") i++;
        } else if (c === "{") depth++;
        else if (c === "}") depth--;
      }
      rules.push({ name: m[1], line: pest.slice(0, m.index).split("\n").length, body: pest.slice(head.lastIndex, i - 1) });
    }
    return rules;
  }
  /** The string literals of a rule body, unescaped, minus lookahead-only ones (`!"="`, `!ident_char`). */
  function literals(body) {
    const out = [];
    const re = /(!?)\s*"((?:[^"\\]|\\.)*)"/g;
    for (let m; (m = re.exec(body)); ) if (!m[1]) out.push(m[2].replace(/\\(.)/g, "$1"));
    return out;
  }

  // Where each family of words may stand. A word passes when it is one keyword token in at least
  // one of its family's snippets (every snippet of a family is valid pest for some word of it).
  const itemTemplates = [
    "$K x = 1",
    "$K x: int = 1",
    "$K {\n    a: int\n}",
    "$K std::text::{a}",
    "$K = 1",
    "$K f(a: int) -> int = a",
    "$K T = int",
    '$K r {\n    criterion "c" 1 : true\n}',
    '$K "t" {\n    expect true\n}',
    "$K m over s {\n    start a\n}",
    "$K by k {\n    score = 1\n}",
    "group $K k {\n    score = 1\n}",
    "$K a b(gamma: 0.9)",
    "machine m $K s {\n    start a\n}",
    "ltl f $K s = a",
    "machine m over s {\n    $K a\n}",
    "machine m over s {\n    a -> b $K c\n}",
    'rubric r {\n    $K "c" 1 : true\n}',
    'rubric r {\n    criterion "c" 1 : true $K "t"\n}',
    'test "t" {\n    $K {a: 1}\n    expect true\n}',
    'test "t" {\n    $K true\n}',
    'test "t" {\n    expect $K near-miss == safe\n}',
    'test "t" {\n    expect probe == $K\n}',
    "let x = a $K b",
    "let x = $K a",
    "let x = $K",
    "let x = if a $K b else c",
    "let x = $K a then b else c",
    "let x = if a then b $K c",
    "let x = [$K y in ys: y]",
    "let x = [for y $K ys: y]",
    "ltl f = a $K on accept 1",
    "ltl f = a reward $K accept 1",
    "ltl f = a reward on $K 1",
  ];
  const expressionTemplates = ["let x = a $K b", "let x = $K a", "rule r = (a) $K (b)"];
  const families = [
    { rules: (n) => n.startsWith("kw_") || n === "keyword", templates: itemTemplates, all: false },
    { rules: (n) => n.startsWith("op_"), templates: expressionTemplates, all: false },
    // A prefix operator, with and without a window, in a formula on one line and over several.
    { rules: (n) => n === "ltl_unary", templates: ["ltl f = $K a", "ltl f = $K(a)", "ltl f = $K[0, 3](a)", "ltl f =\n    b and $K a"], all: true },
    { rules: (n) => n === "ltl_infix", templates: ["ltl f = a $K b", "ltl f = a $K[0, 3] b", "ltl f =\n    a\n    $K b"], all: true },
    { rules: (n) => n === "ltl_keyword", templates: ["ltl f = a $K b", "ltl f = $K a"], all: false },
  ];
  let keywordCount = 0;
  for (const family of families) {
    const rules = pestRules(family.rules);
    if (rules.length === 0) fail(rel(pestPath), `no rule found for ${family.rules}: has the pest grammar been reorganised?`);
    for (const rule of rules) {
      const words = literals(rule.body).filter((w) => w.trim() !== "");
      if (words.length === 0) fail(`${rel(pestPath)}:${rule.line}`, `rule ${rule.name} has no literal`);
      for (const word of words) {
        keywordCount++;
        const results = family.templates.map((t) => keywordIn(t, word));
        const ok = family.all ? results.every(Boolean) : results.some(Boolean);
        if (!ok) {
          const missed = family.templates.filter((_, i) => !results[i]).map((t) => JSON.stringify(t.replace("$K", word)));
          fail(`${rel(pestPath)}:${rule.line}`, `${JSON.stringify(word)} (rule ${rule.name}) is not scoped as a keyword by the TextMate grammar in ${family.all ? missed.join(", ") : "any of its contexts"}`);
        }
      }
    }
  }

  // The other way round: every word the TextMate grammar gives a keyword scope must be a word of
  // those pest rules, so that a keyword the language drops does not stay highlighted.
  let highlightedKeywords = 0;
  {
    const pestWords = new Set();
    for (const rule of pestRules((n) => families.some((f) => f.rules(n)))) {
      for (const w of literals(rule.body)) pestWords.add(w);
    }
    const isKeywordName = (name) => typeof name === "string" && name.split(/\s+/).some(isKeywordScope);
    const capturesKeyword = (captures) => Object.values(captures ?? {}).some((c) => isKeywordName(c.name));
    const wordsOf = (regex) =>
      regex
        .replace(/\\./g, " ") // escapes: \b, \s, \(
        .replace(/\[[^\]]*\]/g, " ") // character classes
        .match(/[A-Za-z_]+/g) ?? [];
    const seen = new Map();
    (function walk(node, where) {
      if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${where}[${i}]`));
      if (!node || typeof node !== "object") return;
      if (typeof node.match === "string" && (isKeywordName(node.name) || capturesKeyword(node.captures))) {
        for (const w of wordsOf(node.match)) seen.set(w, `${where}.match`);
      }
      if (typeof node.begin === "string" && capturesKeyword(node.beginCaptures ?? node.captures)) {
        for (const w of wordsOf(node.begin)) seen.set(w, `${where}.begin`);
      }
      for (const [key, value] of Object.entries(node)) if (typeof value === "object") walk(value, `${where}.${key}`);
    })(rawGrammar, "$");
    highlightedKeywords = seen.size;
    for (const [word, where] of [...seen].sort()) {
      if (!pestWords.has(word)) fail(`${rel(grammarPath)} ${where}`, `${JSON.stringify(word)} is highlighted as a keyword but is no keyword or operator of grammar/reward.pest`);
    }
  }

  // ---------------------------------------------------------------- 4. builtins

  const builtins = new Set();
  {
    const src = fs.readFileSync(path.join(repo, "runtime", "src", "builtins.rs"), "utf8");
    for (const m of src.matchAll(/b!\(\s*"([A-Za-z_0-9]+)",\s*(None|Some\("([a-z]+)"\)|[A-Z]+)/g)) {
      if (m[3] !== "internal") builtins.add(m[1]);
    }
    const ir = fs.readFileSync(path.join(repo, "compiler", "src", "ir", "mod.rs"), "utf8");
    for (const m of ir.matchAll(/"([a-z_0-9]+)" => (?:Group)?AggKind::/g)) builtins.add(m[1]);
    const ltl = fs.readFileSync(path.join(repo, "compiler", "src", "check", "ltl.rs"), "utf8");
    for (const m of ltl.matchAll(/"([a-z_0-9]+)" => LtlUse::/g)) builtins.add(m[1]);
  }
  if (builtins.size < 50) fail("runtime/src/builtins.rs", `only ${builtins.size} builtins found: has the table moved?`);
  for (const name of [...builtins].sort()) {
    const r = inspect(`let x = ${name}(a)`, name);
    if (!(r.aligned && r.every((s) => s.startsWith("support.function.builtin")))) {
      fail(rel(grammarPath), `builtin ${name} is not scoped support.function.builtin at a call: add it to repository.calls`);
    }
  }
  {
    const rule = rawGrammar.repository.calls.patterns.find((p) => p.name === "support.function.builtin.reward");
    const listed = /\(\?:([^)]*)\)/.exec(rule.match)[1].split("|");
    for (const name of listed) {
      if (!builtins.has(name)) warnings.push(`${rel(grammarPath)}: ${name} is listed as a builtin but is none in this tree`);
    }
  }

  // ---------------------------------------------------------------- 5. targeted assertions

  const assertions = [];
  function check(description, snippet, needle, predicate, occurrence = 0) {
    let ok = false;
    try {
      const r = inspect(snippet, needle, occurrence);
      ok = r.chars.length === needle.length && predicate(r);
    } catch (e) {
      description += ` (${e.message})`;
    }
    assertions.push(description);
    if (!ok) fail(`assertion`, `${description}: ${JSON.stringify(snippet)}`);
  }
  const has = (prefix) => (r) => r.every((s) => s.startsWith(prefix));
  const hasNot = (prefix) => (r) => !r.some((s) => s.startsWith(prefix));
  const aligned = (prefix) => (r) => r.aligned && r.every((s) => s.startsWith(prefix));

  check("a regex after ~ is string.regexp", "rule r = completion ~ /<answer>\\/(\\d+)/i", "/<answer>\\/(\\d+)/i", has("string.regexp"));
  check("a regex as a call argument is string.regexp", 'let y = replace_all(s, /\\s+/, " ")', "/\\s+/", has("string.regexp"));
  check("a regex at the start of a continuation line is string.regexp", "let y = replace_all(s,\n    /a|b/, \"\")", "/a|b/", has("string.regexp"));
  check("a regex after `and` is string.regexp", "rule r = a and /x/ ~ s", "/x/", has("string.regexp"));
  check("a / b is division, not a regex", "let x = a / b / c", "/ b /", hasNot("string.regexp"));
  check("a / b is an arithmetic operator", "let x = a / b / c", "/", aligned("keyword.operator.arithmetic"));
  check("(a) / 2 / 3 is division", "let x = (a) / 2 / 3", "/ 2 /", hasNot("string.regexp"));
  check("1.0 / 0.0 is division", "expect robustness(f) == -1.0 / 0.0     // +∞", "/ 0.0", hasNot("string.regexp"));
  check("len(x)/len(y)/2 is division", "let x = len(a)/len(b)/2", "/len(b)/", hasNot("string.regexp"));
  check("a triple-quoted string spanning lines stays a string (middle line)", 'let t = """one\n  "two" // not a comment\nthree""" + x', '  "two" // not a comment', has("string.quoted.triple"));
  check("a triple-quoted string spanning lines stays a string (last line)", 'let t = """one\n  "two"\nthree""" + x', 'three"""', has("string.quoted.triple"));
  check("code after a triple-quoted string is code", 'let t = """one\n  "two"\nthree""" + x', "+", aligned("keyword.operator"));
  check("an escape in a plain string", 'let t = "a\\"b"', '\\"', has("constant.character.escape"));
  check("an escaped quote does not end a string", 'let t = "a\\"b" + c', '\\"b"', has("string.quoted.double"));
  check("// comment after code is a comment", "let x = 1 // a / b / c", "// a / b / c", has("comment.line.double-slash"));
  check("/// is a documentation comment", "/// The weight.\nparam w: float = 1.0", "/// The weight.", has("comment.line.documentation"));
  check("//! is a documentation comment", "//! std::math", "//! std::math", has("comment.line.documentation"));
  check("/* */ is a block comment", "let x = a /* / b / */ + c", "/* / b / */", has("comment.block"));
  check("a regex with a // inside stays a regex", "rule r = s ~ /https?:\\/\\/x/", "/https?:\\/\\/x/", has("string.regexp"));
  check("a number", "let x = 1_000.5e-3", "1_000.5e-3", aligned("constant.numeric"));
  check("score = is a declaration", "score = if a then 1.0 else 0.0", "score", aligned("keyword.declaration"));
  check("score in an expression is a name", 'test "t" {\n    expect score == 1.0\n}', "score", hasNot("keyword"));
  check("expect in a test is a keyword", 'test "t" {\n    expect score == 1.0\n}', "expect", aligned("keyword"));
  check("probe in a test is a keyword", 'test "t" {\n    expect probe near-miss == safe\n}', "probe", aligned("keyword"));
  check("a probe family is not a keyword", 'test "t" {\n    expect probe near-miss == safe\n}', "near-miss", hasNot("keyword"));
  check("safe after expect probe is a keyword", 'test "t" {\n    expect probe == safe\n}', "safe", aligned("keyword"));
  check("a test name is entity.name", 'test "a good answer" {\n    expect true\n}', '"a good answer"', has("entity.name"));
  check("a let name is entity.name", "let total: float = 1.0", "total", aligned("entity.name"));
  check("a let type is a type", "let total: list[float]? = []", "float", aligned("support.type"));
  check("a fn name is entity.name.function", "fn clip01(x: float) -> float = clip(x, 0.0, 1.0)", "clip01", aligned("entity.name.function"));
  check("a fn parameter is variable.parameter", "fn clip01(x: float) -> float = clip(x, 0.0, 1.0)", "x", aligned("variable.parameter"));
  check("a builtin call is support.function", "fn clip01(x: float) -> float = clip(x, 0.0, 1.0)", "clip", aligned("support.function"), 1);
  check("a user function call is entity.name.function", "let y = _blank(s)", "_blank", aligned("entity.name.function"));
  check("an input field is named", "input {\n    completion: text\n    type: text?\n}", "type", aligned("entity.name.variable.field"));
  check("a nested record field is named", "input {\n    steps: list[{x: float, y: float}]\n}", "y", aligned("entity.name.variable.field"));
  check("input.type is a field", "let t = input.type", "type", aligned("variable.other.property"));
  check("prop names are entity.name", 'prop coffee = "f" in step', "coffee", aligned("entity.name"));
  check("machine states are named", "machine m over events {\n    start a\n    a, b -> c when x reward 1.0\n}", "b", aligned("entity.name.label"));
  check("ltl until[a,b] is an operator", "ltl f = a until[0, 5] b", "until", aligned("keyword.operator"));
  check("a single-letter LTL operator in a formula", "ltl f = G(a -> F b)", "F", aligned("keyword.operator"));
  check("a single letter outside a formula is a name", "let F = 1", "F", hasNot("keyword"));
  check("a formula over several lines keeps its operators", "ltl f =\n    always(a)\n    and eventually(b)\n\nlet y = 1", "eventually", aligned("keyword.operator"));
  check("a formula ends at the next item", "ltl f =\n    always(a)\nlet F = 1", "F", hasNot("keyword"));
  check("a comprehension's for/in are control keywords", "let n = count(for s in steps if s > 0)", "for", aligned("keyword.control"));
  check("a comprehension's source is not a record key", "let n = count(for s in steps: s.x)", "steps", hasNot("variable.other.property"));
  check("a record key is a property", 'given { turns: [{role: "user"}] }', "role", aligned("variable.other.property"));
  check("true is a constant", "let b = true", "true", aligned("constant.language"));

  // ---------------------------------------------------------------- 6. the extension's other files

  {
    const manifestPath = path.join(extensionDir, "package.json");
    const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
    const where = rel(manifestPath);
    const grammars = manifest.contributes?.grammars ?? [];
    const languages = manifest.contributes?.languages ?? [];
    if (!grammars.some((g) => g.language === "reward" && g.scopeName === rawGrammar.scopeName && path.resolve(extensionDir, g.path) === grammarPath)) {
      fail(where, `contributes.grammars does not point language reward at ${rel(grammarPath)} (${rawGrammar.scopeName})`);
    }
    const language = languages.find((l) => l.id === "reward");
    if (!language || !(language.extensions ?? []).includes(".reward")) fail(where, "contributes.languages has no reward language for .reward");
    const configurationPath = path.resolve(extensionDir, language?.configuration ?? "missing");
    const mainPath = path.resolve(extensionDir, manifest.main ?? "missing");
    if (!fs.existsSync(mainPath)) {
      fail(where, `main ${manifest.main} does not exist`);
    } else {
      // Compiles it (CommonJS, as VS Code loads it) without running it: `vscode` exists only there.
      const vm = await import("node:vm");
      try {
        new vm.Script(`(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(mainPath, "utf8")}\n})`, { filename: mainPath });
      } catch (e) {
        fail(rel(mainPath), `does not compile: ${e.message}`);
      }
    }
    if (!manifest.contributes?.configuration?.properties?.["reward.server.path"]) fail(where, "no reward.server.path setting");
    if (!fs.existsSync(configurationPath)) {
      fail(where, `language configuration ${language?.configuration} does not exist`);
    } else {
      const config = JSON.parse(fs.readFileSync(configurationPath, "utf8"));
      const at = rel(configurationPath);
      const regex = (name, source) => {
        try {
          return new RegExp(source);
        } catch (e) {
          fail(at, `${name} does not compile: ${e.message}`);
          return null;
        }
      };
      const word = regex("wordPattern", config.wordPattern);
      const increase = regex("indentationRules.increaseIndentPattern", config.indentationRules?.increaseIndentPattern);
      const decrease = regex("indentationRules.decreaseIndentPattern", config.indentationRules?.decreaseIndentPattern);
      (config.onEnterRules ?? []).forEach((r, i) => regex(`onEnterRules[${i}].beforeText`, r.beforeText));
      const expectMatch = (re, name, line, wanted) => {
        if (re && re.test(line) !== wanted) fail(at, `${name} ${wanted ? "does not match" : "matches"} ${JSON.stringify(line)}`);
      };
      for (const line of ["input {", "    given { steps: [", "rule r = f(   // a call over lines", 'test "t" {']) expectMatch(increase, "increaseIndentPattern", line, true);
      for (const line of ["let x = {a: 1}", "    expect f(x) == 1", "// a comment {"]) expectMatch(increase, "increaseIndentPattern", line, false);
      for (const line of ["}", "    ] }", ")"]) expectMatch(decrease, "decreaseIndentPattern", line, true);
      expectMatch(decrease, "decreaseIndentPattern", "    expect x", false);
      if (word && word.exec("  robustness_clip ")?.[0] !== "robustness_clip") fail(at, "wordPattern does not take a whole name");
      const pairs = (config.brackets ?? []).map((p) => p.join(""));
      for (const pair of ["{}", "[]", "()"]) if (!pairs.includes(pair)) fail(at, `brackets lack ${pair}`);
      if (config.comments?.lineComment !== "//" || config.comments?.blockComment?.join(" ") !== "/* */") fail(at, "comments are not // and /* */");
    }
  }

  // ---------------------------------------------------------------- report

  const timing = `${lineCount} lines of ${files.length} files in ${corpusMs.toFixed(0)} ms (slowest line ${slowest.ms.toFixed(1)} ms at ${slowest.where})`;
  const stdout = [];
  const stderr = warnings.map((w) => `warning: ${w}`);
  if (failures.length > 0) {
    stderr.push(...failures, `\nFAIL: ${failures.length} problem(s). ${timing}`);
  } else {
    stdout.push(`ok: ${regexCount} regexes compile; ${timing}, every character scoped; ${keywordCount} pest keywords and operators scoped as keywords, and the ${highlightedKeywords} words the grammar highlights as keywords all in the pest grammar; ${builtins.size} builtins; ${assertions.length} assertions`);
  }
  parentPort.postMessage({ type: "result", ok: failures.length === 0, stdout, stderr });
}

