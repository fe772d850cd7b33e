// node numbers.mjs <base-url> <token> <screenshot-dir>
// The wallboard with calls to several numbers (issue 21, integrated numbers): each number's
// 15 s rate and 24 h connection rate show under the connection rate, and the page passes
// axe-core. Prints one line per step for tests/integrated_numbers.rs.
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir] = process.argv.slice(2);
const shot = shots(dir);

guard(async (consoleLines) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1920, height: 1080 } });
  page.on("console", (m) => consoleLines.push(m.text()));
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("[data-testid=by-number]:not([hidden])", { timeout: 20000 });
  const text = await page.textContent("[data-testid=by-number]");
  say("BYNUMBER " + text);
  await shot(page, "wallboard-by-number");
  await accessible(page, "wallboard-by-number");
  await b.close();
});
