// Shared by the page scripts: Debian's Chromium, headless, with no traffic beyond loopback.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** Chromium; `extra` adds switches (the fake microphone of the WebRTC tests). */
export async function browser(extra = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-features=Translate,OptimizationHints,MediaRouter",
      ...extra,
    ],
  });
}

/** Tells the Rust test how far the page got (one line per step). */
export function say(line) {
  process.stdout.write(line + "\n");
}

export function shots(dir) {
  mkdirSync(dir, { recursive: true });
  return (page, name) => page.screenshot({ path: `${dir}/${name}.png`, fullPage: true });
}

/** Fails the script (exit 1) with the page's console for the log. */
export function guard(run) {
  const consoleLines = [];
  run(consoleLines).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`FAILED: ${e?.stack ?? e}\n--- page console ---\n${consoleLines.join("\n")}\n`);
      process.exit(1);
    },
  );
}

/**
 * Runs axe-core's WCAG 2.1 A and AA rules on the page as it is now and fails with every
 * violation (rule, impact, the elements) — the pages must stay usable with a screen reader
 * and a keyboard. Evaluated through the DevTools protocol, so the pages' CSP stays strict.
 */
export async function accessible(page, what) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
  const bad = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n` + v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.failureSummary}`).join("\n"));
  if (bad.length) throw new Error(`${what}: ${bad.length} accessibility violation(s)\n${bad.join("\n")}`);
  say(`A11Y ${what} ${result.passes.length} rules passed`);
}

/**
 * Moves the focus with Tab (at most `max` presses) until `selector` has it: proves the control
 * is reachable from the keyboard, in the page's own tab order.
 */
export async function tabTo(page, selector, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`${selector} cannot be reached with Tab (${max} presses)`);
}
