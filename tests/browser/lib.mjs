// Shared by the page scripts: Debian's Chromium, headless, with no traffic beyond loopback.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-features=Translate,OptimizationHints,MediaRouter",
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
