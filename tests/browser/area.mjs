// node area.mjs <base-url> <agent-token> <screenshot-dir> <ticket> <part-of-a-street-name>
// Issue 21 on the desk: the agent goes ready, accepts the citizen's web request <ticket>
// (ACCEPTED), types part of a street's name into the area search with the keyboard, picks the
// street among the hits, each shown with its path (PICKED <path>), and the dispatch
// suggestion then names that street's office (SUGGEST <text of the suggested category>); the
// agent dispatches it and saves (SAVED <ticket>). Accessibility is checked on the way.
import { browser, say, shots, guard, accessible, tabTo } from "./lib.mjs";

const [base, token, dir, id, part] = process.argv.slice(2);
const shot = shots(dir);

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("console", (m) => log.push(m.text()));
  await page.goto(`${base}/desk?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("#app:not([hidden])");
  await tabTo(page, "#btn-ready");
  await page.keyboard.press("Enter");
  await page.waitForFunction((w) => document.querySelector("[data-testid=web-offer-id]")?.textContent === w, id, { timeout: 30000 });
  await tabTo(page, "[data-testid=web-accept]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#ticket:not([hidden]) [data-testid=form-web]:not([hidden])", { timeout: 10000 });
  say("ACCEPTED " + id);
  // Before an area is picked, the category goes to the city's unit.
  await page.waitForFunction(() => document.querySelector("#f-category")?.options.length > 1, null, { timeout: 10000 });
  const before = await page.$eval("#f-category", (s) => s.options[s.selectedIndex]?.textContent ?? "");
  say("BEFORE " + before);
  // The agent types part of the street's name; the hits come with their paths.
  await page.focus("#f-area");
  await page.keyboard.type(part);
  await page.waitForFunction((p) => [...document.querySelectorAll("#f-area-pick option")].some((o) => o.value.length === 9 && o.textContent.includes(p)), part, { timeout: 10000 });
  const hits = await page.$$eval("#f-area-pick option", (os) => os.filter((o) => o.value).map((o) => `${o.value}=${o.textContent}`));
  say("HITS " + hits.join(" | "));
  const street = await page.$eval("#f-area-pick", (s, p) => [...s.options].find((o) => o.value.length === 9 && o.textContent.includes(p)).value, part);
  await page.focus("#f-area-pick");
  await page.selectOption("#f-area-pick", street);
  const path = await page.$eval("#f-area-pick", (s) => s.options[s.selectedIndex].textContent);
  say("PICKED " + path);
  // The suggestion follows the area.
  await page.waitForFunction((b) => {
    const s = document.querySelector("#f-category");
    const text = s?.options[s.selectedIndex]?.textContent ?? "";
    return text && text !== b;
  }, before, { timeout: 10000 });
  const suggested = await page.$eval("#f-category", (s) => s.options[s.selectedIndex].textContent);
  say("SUGGEST " + suggested);
  await shot(page, "desk-area");
  await accessible(page, "desk-area");
  if ((await page.inputValue("#f-domain")) === "") await page.selectOption("#f-domain", "social_management");
  await page.focus("#f-next");
  await page.selectOption("#f-next", "dispatch");
  await page.focus("#ticket button[type=submit]");
  await page.keyboard.press("Enter");
  await page.waitForSelector("[data-testid=saved]:not([hidden])", { timeout: 10000 });
  const err = await page.textContent("#desk-error");
  if (err) throw new Error("desk error: " + err);
  say("SAVED " + id);
  await b.close();
});
