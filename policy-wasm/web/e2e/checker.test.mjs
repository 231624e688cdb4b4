// End-to-end tests of the browser checker in headless Chromium (Debian's, driven by
// playwright-core): every golden case in fixtures/cases/ byte for byte through the page and its
// rendering, settings errors, garbage input, the examples, the fixed manifest, speed on a
// 1,000-line paste, no network, and a screenshot.
//
//   CKS_WEB_DIST=target/web-dist node --test --test-concurrency=1 checker.test.mjs
//
// Env: CKS_WEB_DIST (built page, default ../../../target/web-dist), CHROMIUM (default
// /usr/bin/chromium), CKS_WEB_ARTIFACTS (screenshots, default ../target-artifacts),
// CKS_WEB_MAX_MS (1,000-line paste budget, default 1000).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../../..");
const dist = path.resolve(process.env.CKS_WEB_DIST || path.join(root, "target/web-dist"));
const artifacts = path.resolve(process.env.CKS_WEB_ARTIFACTS || path.join(here, "../target-artifacts"));
const casesDir = path.join(root, "fixtures/cases");
const maxMs = Number(process.env.CKS_WEB_MAX_MS || 1000);

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".txt": "text/plain; charset=utf-8",
};

let server;
let base;
let browser;
let page;
const pageErrors = [];
const foreignRequests = [];

// A static file server for the built page (what `python3 -m http.server` does in serve.sh).
function serve(dir) {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      const url = new URL(req.url, "http://x");
      let file = path.join(dir, decodeURIComponent(url.pathname));
      if (!file.startsWith(dir)) {
        res.writeHead(403).end();
        return;
      }
      if (url.pathname.endsWith("/")) file = path.join(file, "index.html");
      fs.readFile(file, (err, body) => {
        if (err) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
        res.end(body);
      });
    });
    s.listen(0, "127.0.0.1", () => resolve(s));
  });
}

// Inverse of serde_json's pretty printer: drops whitespace outside strings (as the Rust golden
// test does), so the expected bytes are exactly the compact report.
function minify(pretty) {
  let out = "";
  let inStr = false;
  let esc = false;
  for (const c of pretty) {
    if (inStr) {
      out += c;
      if (esc) esc = false;
      else if (c === "\\") esc = true;
      else if (c === '"') inStr = false;
    } else if (c === '"') {
      inStr = true;
      out += c;
    } else if (!/\s/.test(c)) {
      out += c;
    }
  }
  return out;
}

function cases() {
  return fs
    .readdirSync(casesDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const dir = path.join(casesDir, name);
      const inputName = ["input.yaml", "input.json"].find((n) => fs.existsSync(path.join(dir, n)));
      const read = (n) => (fs.existsSync(path.join(dir, n)) ? fs.readFileSync(path.join(dir, n), "utf8") : "");
      return {
        name,
        inputName,
        input: inputName ? fs.readFileSync(path.join(dir, inputName)) : null,
        settings: read("settings.json"),
        context: read("context.json"),
        expected: read("expected.json"),
      };
    });
}

// Puts settings, source, context and input into the page the way a user (or the test hook)
// does, then evaluates at once; returns the compact report JSON the page holds.
async function check({ input, settings = "", source = "manifest", context = "" }) {
  await page.evaluate(
    ([s, c]) => {
      window.cks.setSource(s);
      window.cks.setContext(c);
    },
    [source, context],
  );
  const settingsBox = page.getByTestId("settings");
  if ((await settingsBox.inputValue()) !== settings) {
    // The settings live in a collapsible panel: open it as a user would.
    if (!(await settingsBox.isVisible())) await page.locator("#settings-panel > summary").click();
    await settingsBox.fill(settings);
  }
  const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input, "utf8");
  let text = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  // A textarea normalizes CR LF and cannot hold invalid UTF-8: such input goes in as bytes.
  if (text !== null && !text.includes("\r")) {
    await page.getByTestId("manifest").fill(text);
    return page.evaluate(() => window.cks.evaluateNow());
  }
  return page.evaluate((b) => window.cks.evaluateBytes(b), [...bytes]);
}

async function rendered() {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="verdict"]')].map((v) => ({
      allowed: v.dataset.allowed,
      findings: [...v.querySelectorAll('[data-testid="finding"]')]
        .map((f) => `${f.dataset.rule}|${f.dataset.severity}|${f.dataset.line}|${f.dataset.path}`)
        .sort(),
    })),
  );
}

function expectedRendering(report) {
  return report.results.map((r) => ({
    allowed: String(r.allowed),
    findings: r.findings
      .map((f) => `${f.rule}|${f.severity}|${f.line === undefined ? "" : f.line}|${f.path}`)
      .sort(),
  }));
}

before(async () => {
  assert.ok(fs.existsSync(path.join(dist, "index.html")), `no built page in ${dist}: run build.sh`);
  server = await serve(dist);
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(`console: ${m.text()}`);
  });
  // Nothing may leave the page: every request other than the page's own files is refused.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(base) || url.startsWith("blob:") || url.startsWith("data:")) {
      route.continue();
    } else {
      foreignRequests.push(url);
      route.abort();
    }
  });
  await page.goto(base);
  await page.waitForSelector('body[data-ready="true"]', { state: "attached", timeout: 30000 });
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
});

test("the engine loads and the rule reference is generated", async () => {
  const rules = await page.locator('[data-testid="rule"]').count();
  assert.ok(rules >= 20, `only ${rules} rules listed`);
  assert.equal(await page.locator("#rule-image-digest-required").count(), 1);
  assert.match(await page.getByTestId("engine-version").textContent(), /engine \d+\.\d+\.\d+/);
});

test("every golden case, byte for byte and as rendered", async () => {
  const all = cases();
  assert.ok(all.length > 0, "no golden cases found");
  const failures = [];
  let passed = 0;
  for (const c of all) {
    if (!c.inputName || !c.expected) {
      failures.push(`${c.name}: no input.yaml/input.json or expected.json`);
      continue;
    }
    const got = await check({ input: c.input, settings: c.settings, source: c.inputName, context: c.context });
    const want = minify(c.expected);
    if (got !== want) {
      failures.push(`${c.name}: report differs\n  got:  ${got}\n  want: ${want}`);
      continue;
    }
    // JSON.stringify(JSON.parse(..)) gives the same bytes as well: the two minifications agree.
    if (JSON.stringify(JSON.parse(c.expected)) !== want) {
      failures.push(`${c.name}: JSON.stringify round trip differs from the whitespace minify`);
      continue;
    }
    const expected = JSON.parse(want);
    const seen = await rendered();
    try {
      assert.deepEqual(seen, expectedRendering(expected));
    } catch (e) {
      failures.push(`${c.name}: rendering differs: ${e.message}`);
      continue;
    }
    const reportEl = await page.getByTestId("report-json").textContent();
    if (reportEl !== got) {
      failures.push(`${c.name}: data-testid=report-json differs from window.cks result`);
      continue;
    }
    passed++;
  }
  console.log(`golden cases: ${passed} passed, ${failures.length} failed (of ${all.length})`);
  assert.deepEqual(failures, [], failures.join("\n"));
});

test("typing re-evaluates (debounced) and findings select their line", async () => {
  await check({ input: "" });
  const editor = page.getByTestId("manifest");
  await editor.click();
  await page.keyboard.insertText("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n");
  await page.waitForFunction(() => (window.cksLastReport || "").includes('"name":"web"'));
  const verdict = page.getByTestId("verdict");
  assert.equal(await verdict.count(), 1);
  assert.equal(await verdict.getAttribute("data-allowed"), "false");
  const finding = page.locator('[data-testid="finding"][data-rule="image-mutable-tag"]');
  assert.equal(await finding.getAttribute("data-severity"), "error");
  assert.equal(await finding.getAttribute("data-line"), "8");
  await finding.click();
  const selected = await page.evaluate(() => {
    const ta = document.querySelector('[data-testid="manifest"]');
    return ta.value.slice(ta.selectionStart, ta.selectionEnd);
  });
  assert.equal(selected, "    image: nginx");
  // The fixed manifest carries the mutation CKS admission applies.
  const patched = await page.getByTestId("patched").textContent();
  assert.match(patched, /is_cpu_compute/);
});

test("the fixed manifest keeps unpatched documents and can be downloaded", async () => {
  const keep = "# a comment that stays\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n";
  const pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n";
  await check({ input: `${keep}---\n${pod}` });
  const patched = await page.getByTestId("patched").textContent();
  assert.ok(patched.startsWith(`${keep}---\n`), patched);
  assert.match(patched, /is_cpu_compute/);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download").click()]);
  const file = await download.path();
  assert.equal(fs.readFileSync(file, "utf8"), patched);
});

test("opened files are judged under their own names", async () => {
  await check({ input: "" });
  const pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: from-file\nspec:\n  containers:\n  - name: c\n    image: nginx\n";
  const ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n";
  const before = await page.evaluate(() => Number(document.body.dataset.evaluations));
  await page.setInputFiles("#file-input", [{ name: "pod.yaml", mimeType: "text/yaml", buffer: Buffer.from(pod) }]);
  await page.waitForFunction((n) => Number(document.body.dataset.evaluations) > n, before);
  let report = JSON.parse(await page.evaluate(() => window.cksLastReport));
  assert.equal(report.results[0].source, "pod.yaml");
  assert.equal(report.results[0].name, "from-file");
  assert.equal(await page.getByTestId("manifest").inputValue(), pod);
  // Several files become one multi-document manifest.
  const again = await page.evaluate(() => Number(document.body.dataset.evaluations));
  await page.setInputFiles("#file-input", [
    { name: "a.yaml", mimeType: "text/yaml", buffer: Buffer.from(pod) },
    { name: "b.yaml", mimeType: "text/yaml", buffer: Buffer.from(ns) },
  ]);
  await page.waitForFunction((n) => Number(document.body.dataset.evaluations) > n, again);
  report = JSON.parse(await page.evaluate(() => window.cksLastReport));
  assert.deepEqual(report.results.map((r) => [r.document, r.kind]), [[0, "Pod"], [1, "Namespace"]]);
});

test("settings errors are shown inline and the results keep working", async () => {
  await check({ input: "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: a, image: nginx}]}\n", settings: "mode: sideways\nnope: 1\n" });
  const errors = page.locator('[data-testid="settings-error"]');
  assert.ok((await errors.count()) >= 2, "each settings problem is listed");
  assert.ok(await page.getByTestId("settings-errors").isVisible());
  const texts = await errors.allTextContents();
  assert.ok(texts.some((t) => t.includes("/mode")), texts.join(" | "));
  assert.ok(texts.some((t) => t.includes("line 1")), texts.join(" | "));
  assert.ok(await page.getByTestId("notice").isVisible());
  // Clicking a problem selects its line in the settings editor.
  await page.locator('[data-testid="settings-error"][data-path="/mode"]').click();
  const selected = await page.evaluate(() => {
    const ta = document.querySelector('[data-testid="settings"]');
    return ta.value.slice(ta.selectionStart, ta.selectionEnd);
  });
  assert.equal(selected, "mode: sideways");
  assert.ok((await page.getByTestId("verdict").count()) === 1, "results still shown");
  // Garbage settings too.
  await check({ input: "", settings: "{{{" });
  assert.ok((await errors.count()) >= 1);
  // Fixing the settings clears the errors.
  await check({ input: "", settings: "mode: warn\n" });
  assert.equal(await errors.count(), 0);
  assert.ok(await page.getByTestId("settings-errors").isHidden());
  await check({ input: "", settings: "" });
});

test("garbage input gives an input-invalid finding, never a blank page", async () => {
  const junk = [
    { name: "binary", input: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
    { name: "binary-as-text", input: "\u0000\u0001\u0002PNG\u001a\ufffd\ufffd" },
    { name: "braces", input: "{{{" },
    { name: "nested", input: "[".repeat(200) },
    { name: "nested-json", input: `{"a":${"[".repeat(5000)}` },
    { name: "tabs", input: "\tkind: Pod\n\t- : :\n" },
    { name: "scalar", input: "just some text\n" },
  ];
  for (const j of junk) {
    const report = await check({ input: j.input });
    const parsed = JSON.parse(report);
    assert.ok(parsed.results.length >= 1, `${j.name}: no result`);
    const invalid = page.locator('[data-testid="finding"][data-rule="input-invalid"]');
    assert.ok((await invalid.count()) >= 1, `${j.name}: no input-invalid finding shown`);
    assert.equal(await page.getByTestId("verdict").first().getAttribute("data-allowed"), "false");
    assert.ok(await page.getByTestId("error").isHidden(), `${j.name}: engine error banner`);
  }
  // The page still works afterwards.
  const after = await check({ input: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n" });
  assert.equal(JSON.parse(after).results[0].allowed, true);
});

test("every bundled example loads and is judged", async () => {
  const buttons = page.locator("[data-example]");
  const n = await buttons.count();
  assert.ok(n >= 10, `only ${n} examples`);
  for (let i = 0; i < n; i++) {
    const b = buttons.nth(i);
    const name = await b.getAttribute("data-example");
    await b.click();
    const report = JSON.parse(await page.evaluate(() => window.cksLastReport));
    assert.ok(report.results.length >= 1, `${name}: no result`);
    assert.equal(report.results[0].source, name);
    const gpu = name.startsWith("examples/gpu/");
    if (gpu) assert.ok(report.results.every((r) => r.allowed), `${name} should pass`);
  }
});

test("a 1,000-line paste feels instant", async () => {
  const doc = (i) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-${i}\n  namespace: team\n  labels:\n    app: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      nodeSelector:\n        node.kubernetes.io/type: A100\n      containers:\n      - name: web\n        image: registry.example.com/web:latest\n        resources:\n          limits: {nvidia.com/gpu: "1"}\n      tolerations:\n      - operator: Exists\n`;
  const parts = [];
  let lines = 0;
  for (let i = 0; lines < 1000; i++) {
    const d = doc(i);
    parts.push(d);
    lines += d.split("\n").length;
  }
  const text = parts.join("---\n");
  await check({ input: "" });
  // A paste: the whole text lands in the textarea at once, with one input event; then the
  // debounced evaluation and one frame to paint.
  const t = await page.evaluate(async (text) => {
    const ta = document.querySelector('[data-testid="manifest"]');
    const before = Number(document.body.dataset.evaluations);
    const t0 = performance.now();
    ta.focus();
    ta.setRangeText(text, 0, ta.value.length, "end");
    ta.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertFromPaste" }));
    const input = performance.now() - t0;
    await new Promise((resolve) => {
      const poll = () => (Number(document.body.dataset.evaluations) > before ? resolve() : setTimeout(poll, 5));
      poll();
    });
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    return { input, toPaint: performance.now() - t0, ...window.cks.timing };
  }, text);
  assert.equal(await page.getByTestId("verdict").count(), parts.length);
  const findings = await page.locator('[data-testid="finding"]').count();
  console.log(
    `1,000-line paste: ${text.split("\n").length} lines, ${parts.length} documents, ${findings} findings: ` +
      `engine ${t.engineMs.toFixed(1)} ms + results ${t.renderMs.toFixed(1)} ms; ` +
      `paste to painted results ${t.toPaint.toFixed(0)} ms (including the 120 ms debounce)`,
  );
  assert.ok(t.totalMs < maxMs, `evaluation and rendering took ${t.totalMs} ms`);
  assert.ok(t.toPaint < 2 * maxMs + 120, `paste to painted results took ${t.toPaint} ms`);
});

test("screenshot", async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  await check({ input: "", settings: "" });
  await page.evaluate(() => (document.getElementById("settings-panel").open = false));
  await page.locator('[data-example="examples/inference-deployment.yaml"]').click();
  await page.locator('[data-testid="finding"][data-rule="legacy-node-selector"]').click();
  await page.evaluate(() => window.scrollTo(0, 0));
  const file = path.join(artifacts, "checker.png");
  await page.screenshot({ path: file });
  assert.ok(fs.statSync(file).size > 1000);
  console.log(`screenshot: ${file}`);
});

test("no page errors and no request left the page", async () => {
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(foreignRequests, []);
});

test("judging as existing objects skips change rules and patches nothing", async () => {
  const node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: g1\n  labels:\n    node.coreweave.cloud/state: production\n";
  await check({ input: node });
  assert.equal(await page.locator('[data-testid="finding"][data-rule="reserved-node-label"]').count(), 1);
  await page.getByTestId("existing").check();
  await page.waitForFunction(() => (window.cksLastReport || "").includes('"existing":true'));
  assert.equal(await page.locator('[data-testid="finding"][data-rule="reserved-node-label"]').count(), 0);
  await page.getByTestId("existing").uncheck();
  await page.waitForFunction(() => !(window.cksLastReport || "").includes('"existing":true'));
  assert.equal(await page.locator('[data-testid="finding"][data-rule="reserved-node-label"]').count(), 1);
});
