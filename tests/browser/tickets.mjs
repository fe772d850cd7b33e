// node tickets.mjs <base-url> <unit-token> <screenshot-dir> <ticket-id>
// The handling unit opens its ticket desk, sees the dispatched ticket with its due time,
// opens it and signs for it (SIGNED), then switches to English; screenshots at each step.
import { browser, say, shots, guard } from "./lib.mjs";

const [base, token, dir, id] = process.argv.slice(2);
const shot = shots(dir);

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1500, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  await page.goto(`${base}/tickets?token=${encodeURIComponent(token)}`);
  await page.waitForSelector(`[data-testid=ticket-list] tr[data-id="${id}"]`, { timeout: 15000 });
  say("LISTED");
  await shot(page, "tickets-list");
  await page.click(`[data-testid=ticket-list] tr[data-id="${id}"] a`);
  await page.waitForSelector("#a-action");
  await page.selectOption("#a-action", "sign");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=handling]", { timeout: 10000 });
  await shot(page, "tickets-signed");
  say("SIGNED " + id);
  await b.close();
});
