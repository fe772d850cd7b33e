// node tickets.mjs <base-url> <unit-token> <screenshot-dir> <ticket-id>
// The handling unit opens its ticket desk, sees the dispatched ticket with its due time,
// opens it and signs for it (SIGNED), then replies with the four required parts and a file
// it uploads (REPLIED); screenshots at each step.
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir, id] = process.argv.slice(2);
const shot = shots(dir);

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage({ viewport: { width: 1500, height: 1000 } });
  page.on("console", (m) => log.push(m.text()));
  await page.goto(`${base}/tickets?token=${encodeURIComponent(token)}`);
  await page.waitForSelector(`[data-testid=ticket-list] tr[data-id="${id}"]`, { timeout: 15000 });
  const lead = await page.textContent(`[data-testid=ticket-list] tr[data-id="${id}"] td:nth-child(4)`);
  if (lead !== "市自来水集团") throw new Error("lead unit shown as " + lead);
  say("LISTED");
  await shot(page, "tickets-list");
  await accessible(page, "tickets-list");
  await page.click(`[data-testid=ticket-list] tr[data-id="${id}"] a`);
  await page.waitForSelector("#a-action");
  // A dispatched ticket offers its unit what the rules allow now, and nothing else.
  const offered = await page.$$eval("#a-action option", (os) => os.map((o) => o.value));
  if (offered.join(" ") !== "sign return") throw new Error("offered actions: " + offered.join(" "));
  await page.selectOption("#a-action", "sign");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=handling]", { timeout: 10000 });
  await shot(page, "tickets-signed");
  say("SIGNED " + id);
  await page.selectOption("#a-action", "feedback");
  // The reply's fields are labelled in the page's language, not with API names.
  const label = await page.textContent("label[for=a-legal_basis]");
  if (label !== "政策法规依据") throw new Error("feedback field label: " + label);
  await accessible(page, "tickets-detail");
  await page.fill("#a-contact", "11月23日电话联系诉求人");
  await page.fill("#a-verification", "现场核查，停水属实，系主管破裂");
  await page.fill("#a-legal_basis", "《城市供水条例》第二十二条");
  await page.fill("#a-result", "已抢修，当日18时恢复供水");
  await page.check("#a-caller_informed");
  await page.setInputFiles("#a-attachments", {
    name: "抢修记录.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("抢修记录：11月23日14时开挖，17时完成焊接，18时恢复供水。"),
  });
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=under_review]", { timeout: 10000 });
  await page.waitForSelector("[data-testid=attachments] button");
  await shot(page, "tickets-replied");
  say("REPLIED " + id);
  await b.close();
});
