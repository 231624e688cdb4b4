// The CKS manifest checker page. Plain ES module, no dependencies, no network beyond loading
// its own files: the engine is the cks-policy core compiled to wasm (pkg/cks_policy_web.js).
import init, * as engine from "./pkg/cks_policy_web.js";
import { EXAMPLES } from "./examples.js";

const $ = (id) => document.getElementById(id);
const manifest = $("manifest");
const settings = $("settings");
const DEBOUNCE_MS = 120;
const SEVERITIES = ["error", "warning", "info"];
const SEVERITY_TITLE = { error: "Errors", warning: "Warnings", info: "Info" };

// Page state. `source` is the name echoed in reports ("manifest" for typed text, the file
// name for dropped files); `context` is cluster context JSON, which only the test hook sets.
const state = {
  checker: null, // engine.Checker for the last valid settings
  settingsText: null, // the text `checker` was compiled from
  settingsValid: true,
  source: "manifest",
  context: "",
  lastReport: "",
  lastFixed: "",
  lastMs: 0,
  engineMs: 0,
  renderMs: 0,
  evaluations: 0,
  timer: 0,
  ready: false,
};

// ---------------------------------------------------------------------------------------------
// Engine calls. With panic=abort a wasm trap would leave the instance unusable, so any thrown
// RuntimeError re-instantiates the module; every call site catches and shows the error.

async function loadEngine() {
  await init();
  state.checker = null;
  state.settingsText = null;
}

function showFatal(message) {
  const el = $("fatal");
  el.textContent = message;
  el.hidden = !message;
}

function engineFailed(err) {
  const msg = err && err.message ? err.message : String(err);
  showFatal(`The engine failed: ${msg}. The page reloaded the engine; edit the input to try again.`);
  if (err instanceof WebAssembly.RuntimeError) {
    loadEngine().catch((e) => showFatal(`The engine could not be reloaded: ${e}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Editors with line numbers.

function lineCount(text) {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

// The gutter is one text node of line numbers (rebuilt only when the line count changes) and a
// few absolutely placed bands for the lines with findings, so a 1,000-line paste stays cheap.
function syncGutter(textarea, gutter, marks) {
  let nums = gutter.querySelector(".nums");
  let bands = gutter.querySelector(".bands");
  if (!nums) {
    bands = el("div", "bands");
    nums = el("div", "nums");
    gutter.replaceChildren(bands, nums);
  }
  const n = lineCount(textarea.value);
  if (Number(nums.dataset.lines) !== n) {
    let text = "1";
    for (let i = 2; i <= n; i++) text += `\n${i}`;
    nums.textContent = text;
    nums.dataset.lines = String(n);
  }
  if (marks) {
    const lh = lineHeight(textarea);
    const frag = document.createDocumentFragment();
    for (const [line, sev] of marks) {
      if (line > n) continue;
      const band = el("div", `band mark-${sev}`);
      band.dataset.line = String(line);
      band.style.top = `${(line - 1) * lh}px`;
      frag.append(band);
    }
    bands.replaceChildren(frag);
  } else {
    // Reading scrollTop forces a layout: only when the text changed, not after rendering results.
    gutter.scrollTop = textarea.scrollTop;
  }
}

// Both editors use the same line height (--line); read once, as reading it forces a style
// recalculation.
let cachedLineHeight = 0;
function lineHeight(textarea) {
  if (!cachedLineHeight) {
    const lh = parseFloat(getComputedStyle(textarea).lineHeight);
    cachedLineHeight = Number.isFinite(lh) && lh > 0 ? lh : 18;
  }
  return cachedLineHeight;
}

// Selects line `line` (1-based) of an editor (the manifest's by default) and scrolls it into
// view.
function selectLine(line, textarea = manifest, gutter = $("gutter")) {
  const text = textarea.value;
  let start = 0;
  for (let i = 1; i < line; i++) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) break;
    start = nl + 1;
  }
  let end = text.indexOf("\n", start);
  if (end === -1) end = text.length;
  textarea.focus();
  textarea.setSelectionRange(start, end);
  const lh = lineHeight(textarea);
  textarea.scrollTop = Math.max(0, (line - 1) * lh - textarea.clientHeight / 3);
  gutter.scrollTop = textarea.scrollTop;
  const bands = gutter.querySelector(".bands");
  const flash = el("div", "band flash");
  flash.style.top = `${(line - 1) * lh}px`;
  bands.append(flash);
  setTimeout(() => flash.remove(), 1300);
}

// ---------------------------------------------------------------------------------------------
// Settings: compiled once per change, problems shown inline with their line.

function applySettings() {
  const text = settings.value;
  if (state.checker && text === state.settingsText) return;
  const list = $("settings-errors");
  let report;
  try {
    report = JSON.parse(engine.validateSettings(text));
  } catch (err) {
    engineFailed(err);
    return;
  }
  const marks = new Map();
  if (report.valid) {
    try {
      const next = new engine.Checker(text);
      if (state.checker) state.checker.free();
      state.checker = next;
      state.settingsText = text;
    } catch (err) {
      report = { valid: false, problems: [{ path: "", message: String(err.message || err) }] };
    }
  }
  state.settingsValid = report.valid;
  list.replaceChildren();
  for (const p of report.problems) {
    const li = document.createElement("li");
    li.dataset.testid = "settings-error";
    li.dataset.path = p.path;
    // A syntax error names its line only in the message.
    const m = p.line ? null : / at line (\d+)/.exec(p.message);
    if (m) p.line = Number(m[1]);
    if (p.line) {
      li.dataset.line = p.line;
      li.tabIndex = 0;
      li.title = `Select line ${p.line} of the settings`;
      li.addEventListener("click", () => selectLine(p.line, settings, $("settings-gutter")));
    }
    const where = [p.line ? `line ${p.line}` : "", p.path].filter(Boolean).join(" · ");
    if (where) {
      const w = document.createElement("span");
      w.className = "where";
      w.textContent = where;
      li.append(w, " ");
    }
    li.append(p.message);
    if (p.line) marks.set(p.line, "error");
    list.appendChild(li);
  }
  list.hidden = report.valid;
  settings.classList.toggle("invalid", !report.valid);
  settings.setAttribute("aria-invalid", String(!report.valid));
  $("settings-state").textContent = report.valid
    ? text.trim() ? "(custom)" : "(defaults)"
    : `(${report.problems.length} problem${report.problems.length === 1 ? "" : "s"})`;
  syncGutter(settings, $("settings-gutter"), marks);
  if (!report.valid) $("settings-panel").open = true;
  if (!state.checker) {
    // No valid settings yet: fall back to the defaults so the manifest is still judged.
    try {
      state.checker = new engine.Checker("");
      state.settingsText = null;
    } catch (err) {
      engineFailed(err);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation and rendering.

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function objectTitle(r) {
  const kind = r.kind || "(unreadable document)";
  const name = r.name ? (r.namespace ? `${r.namespace}/${r.name}` : r.name) : "";
  return name ? `${kind} ${name}` : kind;
}

function renderFinding(f) {
  const li = el("li", `finding sev-${f.severity}`);
  li.dataset.testid = "finding";
  li.dataset.rule = f.rule;
  li.dataset.severity = f.severity;
  li.dataset.line = f.line === undefined ? "" : String(f.line);
  li.dataset.path = f.path;
  if (f.line !== undefined) {
    li.tabIndex = 0;
    li.title = `Select line ${f.line} in the editor`;
    li.addEventListener("click", () => selectLine(f.line));
    li.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        selectLine(f.line);
      }
    });
  }
  const head = el("div", "finding-head");
  const line = el("span", "line", f.line === undefined ? "—" : `L${f.line}`);
  const rule = el("a", "rule", f.rule);
  rule.href = `#rule-${f.rule}`;
  rule.addEventListener("click", (e) => e.stopPropagation());
  head.append(line, el("span", `badge sev-${f.severity}`, f.severity), rule);
  if (f.path) head.append(el("code", "path", f.path));
  li.append(head, el("div", "message", f.message));
  if (f.fix) {
    const fix = el("div", "fix");
    fix.append(el("span", "fix-label", "fix: "), f.fix);
    li.append(fix);
  }
  return li;
}

function renderPatch(ops) {
  const box = el("details", "mutations");
  box.open = true;
  box.append(el("summary", "", `Mutations CKS admission applies (${ops.length})`));
  const ul = el("ul", "ops");
  for (const op of ops) {
    const li = el("li", "op");
    li.dataset.testid = "patch-op";
    li.append(el("span", `op-kind op-${op.op}`, op.op), " ", el("code", "path", op.path));
    if (op.value !== undefined) {
      li.append(" ", el("code", "value", JSON.stringify(op.value)));
    }
    ul.append(li);
  }
  box.append(ul);
  return box;
}

function renderReport(report) {
  const frag = document.createDocumentFragment();
  const marks = new Map();
  const rank = { error: 3, warning: 2, info: 1 };
  for (const r of report.results) {
    const sec = el("section", `verdict ${r.allowed ? "allowed" : "denied"}`);
    sec.dataset.testid = "verdict";
    sec.dataset.allowed = String(r.allowed);
    sec.dataset.document = String(r.document);
    if (r.kind) sec.dataset.kind = r.kind;
    if (r.name) sec.dataset.name = r.name;
    const head = el("div", "verdict-head");
    head.append(
      el("span", `outcome ${r.allowed ? "allowed" : "denied"}`, r.allowed ? "allowed" : "denied"),
      el("span", "object", objectTitle(r)),
      el("span", "muted", `document ${r.document + 1}`),
    );
    sec.append(head);
    if (r.findings.length === 0) {
      sec.append(el("p", "muted clean", "No findings."));
    }
    for (const sev of SEVERITIES) {
      const group = r.findings.filter((f) => f.severity === sev && !f.suppressed);
      if (group.length === 0) continue;
      const g = el("div", `group group-${sev}`);
      g.append(el("h3", "", `${SEVERITY_TITLE[sev]} (${group.length})`));
      const ul = el("ul", "findings");
      for (const f of group) {
        ul.append(renderFinding(f));
        if (f.line !== undefined && (rank[sev] > (rank[marks.get(f.line)] || 0))) {
          marks.set(f.line, sev);
        }
      }
      g.append(ul);
      sec.append(g);
    }
    // Findings an exception silenced: listed with their reason, never counted or marked.
    const silenced = r.findings.filter((f) => f.suppressed);
    if (silenced.length > 0) {
      const g = el("details", "group group-suppressed");
      g.dataset.testid = "suppressed";
      g.append(el("summary", "", `Suppressed by exceptions (${silenced.length})`));
      const ul = el("ul", "findings");
      for (const f of silenced) {
        const li = renderFinding(f);
        li.dataset.suppressed = f.suppressed.by;
        li.append(el("div", "fix", `suppressed by ${f.suppressed.by}: ${f.suppressed.reason}`));
        ul.append(li);
      }
      g.append(ul);
      sec.append(g);
    }
    if (r.patch.length > 0) sec.append(renderPatch(r.patch));
    frag.append(sec);
  }
  $("results").replaceChildren(frag);
  syncGutter(manifest, $("gutter"), marks);

  const s = report.summary;
  const denied = report.results.filter((r) => !r.allowed).length;
  const summary = $("summary");
  summary.replaceChildren();
  if (report.results.length === 0) {
    summary.textContent = "Nothing to check yet: paste or drop a manifest, or load an example.";
  } else {
    summary.append(
      el("strong", denied ? "denied" : "allowed", denied ? `${denied} of ${report.results.length} denied` : `all ${report.results.length} allowed`),
      ` · ${s.errors} error${s.errors === 1 ? "" : "s"}, ${s.warnings} warning${s.warnings === 1 ? "" : "s"}, ${s.infos} info${s.suppressed ? `, ${s.suppressed} suppressed` : ""} · `,
      el("span", "muted", `${(performance.now() - state.t0).toFixed(0)} ms`),
    );
  }
}

function renderFixed(ev) {
  const fixed = ev.fixed;
  const pre = $("patched");
  if (fixed === undefined || fixed === null) {
    state.lastFixed = "";
    pre.textContent = "";
    $("patched-state").textContent = `cannot apply the patch: ${ev.fixError || "unknown error"}`;
  } else {
    state.lastFixed = fixed;
    pre.textContent = fixed;
    $("patched-state").textContent = ev.changed
      ? "with the mutations applied (patched YAML documents are re-serialized, comments dropped)"
      : "no mutations: the manifest as it is";
  }
  $("copy").disabled = $("download").disabled = !state.lastFixed;
}

// Judges the editor's text now (or `bytes`, a Uint8Array, when given: the test hook for input
// a textarea cannot hold byte for byte); returns the compact report JSON.
function evaluateNow(bytes) {
  clearTimeout(state.timer);
  applySettings();
  const notice = $("notice");
  notice.hidden = state.settingsValid;
  notice.textContent = state.settingsValid
    ? ""
    : "The settings have problems (see Settings); results use the last valid settings.";
  if (!state.checker) return state.lastReport;
  let ev;
  const t0 = performance.now();
  state.t0 = t0;
  try {
    const ctx = state.context || undefined;
    if (bytes instanceof Uint8Array) {
      ev = state.checker.evaluateBytes(bytes, state.source, ctx);
    } else if ($("existing").checked) {
      ev = state.checker.audit(manifest.value, state.source, ctx);
    } else {
      ev = state.checker.evaluate(manifest.value, state.source, ctx);
    }
  } catch (err) {
    engineFailed(err);
    return state.lastReport;
  }
  const report = ev.report;
  state.engineMs = performance.now() - t0;
  let parsed;
  try {
    parsed = JSON.parse(report);
  } catch (err) {
    ev.free();
    showFatal(`The engine returned unreadable JSON: ${err}`);
    return state.lastReport;
  }
  showFatal("");
  state.lastReport = report;
  window.cksLastReport = report;
  $("report-json").textContent = report;
  try {
    const r0 = performance.now();
    renderReport(parsed);
    state.reportMs = performance.now() - r0;
    renderFixed(ev);
  } catch (err) {
    showFatal(`Could not show the results: ${err}`);
  } finally {
    ev.free();
  }
  state.lastMs = performance.now() - t0;
  state.renderMs = state.lastMs - state.engineMs;
  state.evaluations++;
  document.body.dataset.evaluations = String(state.evaluations);
  return report;
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(evaluateNow, DEBOUNCE_MS);
}

// ---------------------------------------------------------------------------------------------
// Input: typing, files, examples.

function setManifest(text, source) {
  manifest.value = text;
  state.source = source || "manifest";
  manifest.scrollTop = 0;
  syncGutter(manifest, $("gutter"));
  evaluateNow();
}

async function readFiles(files) {
  const list = [...files];
  if (list.length === 0) return;
  const texts = await Promise.all(list.map((f) => f.text()));
  // Several files become one multi-document manifest; one file keeps its name as the source.
  const text = texts.map((t) => (t.endsWith("\n") || t === "" ? t : `${t}\n`)).join("---\n");
  setManifest(text, list.length === 1 ? list[0].name : "manifest");
}

function setupInput() {
  manifest.addEventListener("input", () => {
    syncGutter(manifest, $("gutter"));
    schedule();
  });
  manifest.addEventListener("scroll", () => ($("gutter").scrollTop = manifest.scrollTop));
  $("existing").addEventListener("change", () => evaluateNow());
  settings.addEventListener("input", () => {
    syncGutter(settings, $("settings-gutter"));
    schedule();
  });
  settings.addEventListener("scroll", () => ($("settings-gutter").scrollTop = settings.scrollTop));
  // Tab inserts two spaces in the editors instead of leaving them.
  for (const ta of [manifest, settings]) {
    ta.addEventListener("keydown", (e) => {
      if (e.key === "Tab" && !e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        ta.setRangeText("  ", ta.selectionStart, ta.selectionEnd, "end");
        ta.dispatchEvent(new Event("input"));
      }
    });
  }

  $("file-input").addEventListener("change", (e) => {
    readFiles(e.target.files).catch((err) => showFatal(`Cannot read the files: ${err}`));
    e.target.value = "";
  });
  const editor = $("editor");
  const hint = $("drop-hint");
  editor.addEventListener("dragover", (e) => {
    e.preventDefault();
    hint.hidden = false;
  });
  editor.addEventListener("dragleave", () => (hint.hidden = true));
  editor.addEventListener("drop", (e) => {
    e.preventDefault();
    hint.hidden = true;
    if (e.dataTransfer && e.dataTransfer.files.length > 0) {
      readFiles(e.dataTransfer.files).catch((err) => showFatal(`Cannot read the files: ${err}`));
    }
  });
  $("clear").addEventListener("click", () => setManifest("", "manifest"));

  const box = $("examples");
  for (const ex of EXAMPLES) {
    const b = el("button", "button example", ex.name);
    b.type = "button";
    b.dataset.example = ex.path;
    b.title = ex.path;
    b.addEventListener("click", () => setManifest(ex.text, ex.path));
    box.append(b);
  }

  $("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(state.lastFixed);
      flashButton($("copy"), "Copied");
    } catch {
      // No clipboard permission (e.g. not a secure context): select the text instead.
      const range = document.createRange();
      range.selectNodeContents($("patched"));
      const sel = getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      flashButton($("copy"), "Selected: press Ctrl+C");
    }
  });
  $("download").addEventListener("click", () => {
    const name = state.source !== "manifest" ? state.source.replace(/(\.[a-z]+)?$/i, ".fixed$1") : "manifest.fixed.yaml";
    const url = URL.createObjectURL(new Blob([state.lastFixed], { type: "text/yaml" }));
    const a = el("a");
    a.href = url;
    a.download = name.includes(".") ? name : `${name}.yaml`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
}

function flashButton(b, text) {
  const old = b.textContent;
  b.textContent = text;
  setTimeout(() => (b.textContent = old), 1500);
}

// ---------------------------------------------------------------------------------------------
// Rule reference and schema, generated from the engine.

function renderRules() {
  const rules = JSON.parse(engine.rules());
  const body = $("rules-body");
  const frag = document.createDocumentFragment();
  for (const r of rules) {
    const tr = el("tr");
    tr.id = `rule-${r.id}`;
    tr.dataset.testid = "rule";
    tr.dataset.rule = r.id;
    const id = el("td");
    id.append(el("code", "", r.id));
    const def = el("td");
    def.append(r.enabled ? el("span", `badge sev-${r.severity}`, r.severity) : el("span", "badge off", "off"));
    tr.append(id, def, el("td", "muted", r.kind), el("td", "", r.description));
    frag.append(tr);
  }
  body.replaceChildren(frag);
  $("settings-schema").textContent = JSON.stringify(JSON.parse(engine.settingsSchema()), null, 2);
}

// ---------------------------------------------------------------------------------------------
// Test hooks (stable; used by e2e/): the browser user has no cluster context, so only tests
// set one.
window.cks = {
  evaluateNow: () => evaluateNow(),
  evaluateBytes: (bytes) => evaluateNow(Uint8Array.from(bytes)),
  setSource(name) {
    state.source = name || "manifest";
  },
  setContext(json) {
    state.context = json || "";
  },
  get lastMs() {
    return state.lastMs;
  },
  get timing() {
    return { engineMs: state.engineMs, reportMs: state.reportMs, renderMs: state.renderMs, totalMs: state.lastMs };
  },
  get ready() {
    return state.ready;
  },
};

async function main() {
  setupInput();
  syncGutter(manifest, $("gutter"));
  syncGutter(settings, $("settings-gutter"));
  try {
    await loadEngine();
    $("engine-version").textContent = `engine ${engine.version()} (wasm)`;
    renderRules();
  } catch (err) {
    showFatal(`Cannot load the engine: ${err && err.message ? err.message : err}. Serve this folder over HTTP (serve.sh).`);
    $("summary").textContent = "The engine did not load.";
    return;
  }
  state.ready = true;
  document.body.dataset.ready = "true";
  evaluateNow();
}

main();
