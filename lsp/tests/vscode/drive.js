// Drives VS Code (code-server's workbench in headless Chromium) the way a user would: opens
// haproxy.cfg from the explorer, reads the Problems panel, hovers through the keyboard, edits,
// and adds a .hapee.toml on disk. Each step appends one JSON line to $HAPEE_VSCODE_OUT with
// what VS Code showed, for tests/vscode.rs to check.
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const out = process.env.HAPEE_VSCODE_OUT;
const workspace = process.env.HAPEE_VSCODE_WORKSPACE;
const record = (event) => fs.appendFileSync(out, JSON.stringify(event) + "\n");

/** The rows of the Problems panel, one string per marker (message, source, code, position). */
async function problems(page) {
  return page.$$eval(".markers-panel .monaco-list-row", (rows) =>
    rows.map((r) => r.innerText.replace(/\s+/g, " ").trim()).filter((t) => !/^haproxy\.cfg \d+$/.test(t)),
  );
}

/** Polls the Problems panel until `wanted` holds (or 60 s pass); the rows last seen. */
async function problemsWhen(page, wanted) {
  const deadline = Date.now() + 60000;
  let rows = await problems(page);
  while (!wanted(rows) && Date.now() < deadline) {
    await page.waitForTimeout(250);
    rows = await problems(page);
  }
  return rows;
}

/** The lines the editor shows, top to bottom. */
async function editorText(page) {
  return page.$$eval(".monaco-editor .view-lines .view-line", (lines) =>
    lines
      .map((l) => [parseFloat(l.style.top), l.innerText.replace(/\u00a0/g, " ")])
      .sort((a, b) => a[0] - b[0])
      .map((l) => l[1]),
  );
}

const hasCode = (code) => (rows) => rows.some((r) => r.includes(code));

async function goTo(page, line, column) {
  await page.keyboard.press("Control+G");
  await page.waitForSelector(".quick-input-widget input", { state: "visible" });
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press("Enter");
  await page.waitForSelector(".quick-input-widget", { state: "hidden" });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.HAPEE_VSCODE_CHROMIUM,
    headless: true,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(process.env.HAPEE_VSCODE_URL);
    await page.waitForSelector(".explorer-folders-view .monaco-list-row", { timeout: 120000 });
    await page.click('.explorer-folders-view .monaco-list-row:has-text("haproxy.cfg")');
    await page.waitForSelector(".monaco-editor .view-lines", { timeout: 60000 });
    await page.keyboard.press("Control+Shift+M");
    record({ event: "diagnostics", rows: await problemsWhen(page, hasCode("L002")) });

    await page.click(".monaco-editor .view-lines");
    const [hoverLine, hoverColumn] = process.env.HAPEE_VSCODE_HOVER.split(":");
    await goTo(page, hoverLine, hoverColumn);
    await page.keyboard.press("Control+K");
    await page.keyboard.press("Control+I");
    const hover = await page.waitForSelector(".monaco-hover-content", { timeout: 30000 });
    await page.waitForFunction((el) => el.innerText.trim().length > 0, hover);
    record({ event: "hover", text: await hover.innerText() });
    await page.keyboard.press("Escape");

    // A new line after the ACL: `unused` is used now, by a rule naming a missing backend.
    await goTo(page, process.env.HAPEE_VSCODE_INSERT_AFTER, 1);
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type(process.env.HAPEE_VSCODE_INSERT);
    const edited = await problemsWhen(page, (rows) => hasCode("E241")(rows) && !hasCode("L002")(rows));
    record({ event: "edit", rows: edited, text: await editorText(page) });

    await page.keyboard.press("Control+Shift+K");
    const deleted = await problemsWhen(page, (rows) => hasCode("L002")(rows) && !hasCode("E241")(rows));
    record({ event: "delete line", rows: deleted, text: await editorText(page) });

    // The lint level changes on disk, with no edit: VS Code reports the file to the server.
    fs.writeFileSync(path.join(workspace, ".hapee.toml"), '[lints]\nallow = ["L002"]\n');
    record({ event: "hapee.toml", rows: await problemsWhen(page, (rows) => !hasCode("L002")(rows)) });
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
