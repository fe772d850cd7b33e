// node kb.mjs <base-url> <token> <screenshot-dir> <mode> [args] — the knowledge base where the
// standard uses it (issue 16), at 1920×1080.
// desk: agent 1001 goes ready; the call's ticket opens with the knowledge panel seeded from the
//   call (PANEL <basis>); a search on purpose that finds nothing (GAP); the agent types the
//   request and sees the recommended item (HIT <item> <version> <title>), then answers the
//   citizen with it in one action (SAVED <ticket>).
// reply <ticket>: the unit signs and replies, citing the item found from the reply form's
//   search (REPLIED <item> <version>).
// review <ticket>: the reviewer sees the cited item with its version (CITED <item> <version>
//   <title>) and follows the link to that exact version (VERSION <title>).
// page <gap>: the supervisor's knowledge page lists the search that found nothing (GAPS), the
//   most used item (USED <title>), the items near expiry (EXPIRING <titles>) and the withdrawn
//   ones (WITHDRAWN <title> <reason>), in both languages (DONE).
// queue <back-id> <approve-id>: the editor's review queue lists both items (QUEUE <ids>); a
//   send-back without a reason is asked for one, then sent back with one (SENT_BACK); the other
//   is approved (APPROVED); the queue is then empty (EMPTY).
import { browser, say, shots, guard, accessible } from "./lib.mjs";

const [base, token, dir, mode, ...rest] = process.argv.slice(2);
const shot = shots(dir);
const VIEW = { viewport: { width: 1920, height: 1080 } };

/** Fails when an element's text overflows its box (clipped) at this size. */
async function noClipping(page, selector) {
  const bad = await page.$$eval(selector, (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.outerHTML.slice(0, 120)));
  if (bad.length) throw new Error("clipped: " + bad.join(" | "));
}

guard(async (log) => {
  const b = await browser();
  const page = await b.newPage(VIEW);
  page.on("console", (m) => log.push(m.text()));
  page.on("pageerror", (e) => log.push("pageerror " + e.message));
  if (mode === "desk") await desk(page);
  else if (mode === "reply") await reply(page, ...rest);
  else if (mode === "review") await review(page, ...rest);
  else if (mode === "page") await knowledgePage(page, ...rest);
  else if (mode === "queue") await reviewQueue(page, ...rest);
  else throw new Error("mode " + mode);
  await b.close();
});

async function desk(page) {
  await page.goto(`${base}/desk?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("#app:not([hidden])");
  await page.click("#btn-ready");
  await page.waitForSelector("[data-testid=popup]:not([hidden])", { timeout: 40000 });
  await page.waitForFunction(() => /^\d{8}-\d{6}$/.test(document.querySelector("[data-testid=ticket-id]")?.textContent ?? ""), null, { timeout: 10000 });
  const ticket = await page.textContent("[data-testid=ticket-id]");
  await page.waitForSelector("#ticket:not([hidden])");
  // Before a word is typed, the panel is seeded from the call's queue (企业服务).
  await page.waitForSelector("[data-testid=kb-panel]:not([hidden])");
  await page.waitForFunction(() => document.querySelector("[data-testid=kb-basis]")?.textContent.includes("企业服务"), null, { timeout: 10000 });
  say("PANEL " + (await page.textContent("[data-testid=kb-basis]")));
  // A search on purpose that finds nothing: the knowledge page will list it as a gap.
  await page.fill("#kb-q", "无人机航拍报备");
  await page.press("#kb-q", "Enter");
  await page.waitForFunction(() => document.querySelector("[data-testid=kb-basis]")?.textContent.includes("没有找到相关知识") && document.querySelector("[data-testid=kb-basis]").textContent.includes("无人机"), null, { timeout: 10000 });
  say("GAP");
  // The agent types the citizen's request: the recommended items follow as they type.
  await page.focus("#f-content");
  await page.keyboard.type("小区停水了也没看到通知，想问停水通知在哪里能查到", { delay: 20 });
  await page.waitForSelector("[data-testid=kb-hit][data-item='1']", { timeout: 10000 });
  const first = await page.$eval("[data-testid=kb-hit]", (li) => ({ id: li.dataset.item, v: li.dataset.version, title: li.querySelector("h3").textContent, marks: li.querySelectorAll(".snippet mark").length, meta: li.querySelector(".meta").textContent }));
  if (first.id !== "1") throw new Error("first recommended item is " + JSON.stringify(first));
  if (!first.marks) throw new Error("no highlighted words in the snippet");
  if (!first.meta.includes("城市供水条例")) throw new Error("no source document: " + first.meta);
  say(`HIT ${first.id} ${first.v} ${first.title}`);
  await page.selectOption("#f-type", "consultation");
  await page.selectOption("#f-domain", "public_service");
  await noClipping(page, ".kb-hits h3, .kb-hits .snippet, #kb-basis");
  await shot(page, "kb-desk-recommended");
  await accessible(page, "kb-desk");
  // One action: cite the item and answer the citizen with it.
  await page.click("[data-testid=kb-hit][data-item='1'] [data-testid=kb-answer]");
  await page.waitForSelector("[data-testid=saved]:not([hidden])", { timeout: 10000 });
  const err = await page.textContent("#desk-error");
  if (err) throw new Error("desk error: " + err);
  if (!(await page.isHidden("[data-testid=kb-panel]"))) throw new Error("the panel stays after saving");
  await shot(page, "kb-desk-answered");
  say("SAVED " + ticket);
}

async function openTicket(page, id) {
  await page.goto(`${base}/tickets?token=${encodeURIComponent(token)}`);
  await page.waitForSelector(`[data-testid=ticket-list] tr[data-id="${id}"]`, { timeout: 15000 });
  await page.click(`[data-testid=ticket-list] tr[data-id="${id}"] a`);
  await page.waitForSelector("[data-testid=ticket-detail] h2");
}

async function reply(page, id) {
  await openTicket(page, id);
  await page.selectOption("#a-action", "sign");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=handling]", { timeout: 10000 });
  await page.selectOption("#a-action", "feedback");
  if ((await page.textContent("label[for=a-cites]")) !== "引用知识（政策依据）") throw new Error("no citation field");
  await page.fill("#a-contact", "电话联系诉求人，说明停水原因");
  await page.fill("#a-verification", "系主管道抢修停水，已张贴通知");
  await page.fill("#a-legal_basis", "《城市供水条例》第二十二条");
  await page.focus("#a-cites");
  await page.keyboard.type("停水通知");
  await page.waitForSelector("[data-testid=cite-results] [data-testid=cite-add][data-item='1']", { timeout: 10000 });
  await page.click("[data-testid=cite-results] [data-testid=cite-add][data-item='1']");
  await page.waitForSelector("[data-testid=cite-chosen] li[data-item='1']");
  const version = await page.getAttribute("[data-testid=cite-chosen] li[data-item='1']", "data-version");
  await page.fill("#a-result", "已恢复供水，停水通知查询方式已告知");
  await page.check("#a-caller_informed");
  await shot(page, "kb-reply-cites");
  await accessible(page, "kb-reply");
  await page.click("[data-testid=ticket-detail] button[type=submit]");
  await page.waitForSelector("[data-testid=ticket-detail] h2[data-state=under_review]", { timeout: 10000 });
  say(`REPLIED 1 ${version}`);
}

async function review(page, id) {
  await openTicket(page, id);
  await page.waitForSelector("[data-testid=citations] li[data-item='1']", { timeout: 10000 });
  await page.waitForFunction(() => !document.querySelector("[data-testid=citations] [data-testid=cite-title]").textContent.startsWith("…"), null, { timeout: 10000 });
  const c = await page.$eval("[data-testid=citations] li[data-item='1']", (li) => ({ v: li.dataset.version, title: li.querySelector("[data-testid=cite-title]").textContent, href: li.querySelector("a").getAttribute("href"), text: li.textContent }));
  if (c.href !== `/knowledge#item=1&v=${c.v}`) throw new Error("link: " + c.href);
  if (!c.text.includes(`第 ${c.v} 版`)) throw new Error("no version shown: " + c.text);
  await noClipping(page, "[data-testid=citations] li");
  await shot(page, "kb-review-cited");
  await accessible(page, "kb-review");
  say(`CITED 1 ${c.v} ${c.title}`);
  // The link opens that exact version (the knowledge page asks the reviewer's token first).
  await page.click("[data-testid=citations] li[data-item='1'] a");
  await page.waitForURL(/\/knowledge#item=1&v=/);
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#login input", token);
  await page.press("#login input", "Enter");
  await page.waitForSelector("[data-testid=version-view]:not([hidden])", { timeout: 10000 });
  const h = await page.textContent("#view-h");
  if (!h.includes(`第 ${c.v} 版`)) throw new Error("version view: " + h);
  if (!(await page.isHidden("#stats"))) throw new Error("a reviewer sees the supervisors' figures");
  await shot(page, "kb-version");
  await accessible(page, "kb-version");
  say("VERSION " + h);
}

async function knowledgePage(page, gap) {
  await page.goto(`${base}/knowledge?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("#stats:not([hidden])");
  await page.waitForSelector("[data-testid=gap-query]", { timeout: 10000 });
  const gaps = await page.$$eval("[data-testid=gap-query]", (tds) => tds.map((td) => td.textContent));
  if (!gaps.includes(gap)) throw new Error(`gap ${gap} not listed: ${gaps.join(" | ")}`);
  say("GAPS " + gaps.join(" | "));
  const used = await page.$eval("[data-testid=used] tr td a", (a) => a.textContent);
  say("USED " + used);
  const expiring = await page.$$eval("[data-testid=expiring] tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent).join("/")));
  say("EXPIRING " + expiring.join(" | "));
  const withdrawn = await page.$$eval("[data-testid=withdrawn] tr", (trs) => trs.map((tr) => `${tr.cells[0].textContent} ${tr.cells[3]?.textContent}`));
  say("WITHDRAWN " + withdrawn.join(" | "));
  await noClipping(page, "td, th, h2");
  await shot(page, "kb-page");
  await accessible(page, "kb-page");
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("#gaps-h").textContent.startsWith("Searches"));
  await noClipping(page, "td, th, h2");
  await shot(page, "kb-page-en");
  await page.click("#lang");
  say("DONE");
}

async function reviewQueue(page, back, approve) {
  await page.goto(`${base}/knowledge?token=${encodeURIComponent(token)}`);
  await page.waitForSelector("#stats:not([hidden])");
  const row = (id) => `[data-testid=review] tr:has(a[data-item="${id}"])`;
  await page.waitForSelector(row(back), { timeout: 10000 });
  await page.waitForSelector(row(approve), { timeout: 10000 });
  const ids = await page.$$eval("[data-testid=review] a[data-item]", (as) => as.map((a) => a.dataset.item));
  say("QUEUE " + ids.join(" "));
  await noClipping(page, "td, th, h2");
  await shot(page, "kb-queue");
  await accessible(page, "kb-queue");
  // Sent back without a reason: asked for one, nothing sent.
  await page.click(`${row(back)} [data-testid=send-back]`);
  await page.waitForFunction(() => document.querySelector("[data-testid=review-status]").textContent === "退回须说明原因", null, { timeout: 5000 });
  if (!(await page.$(row(back)))) throw new Error("sent back without a reason");
  await page.fill(`${row(back)} input`, "请补充文号并核对有效期");
  await page.click(`${row(back)} [data-testid=send-back]`);
  await page.waitForFunction((id) => !document.querySelector(`[data-testid=review] a[data-item="${id}"]`), back, { timeout: 10000 });
  say("SENT_BACK " + (await page.textContent("[data-testid=review-status]")));
  await page.click(`${row(approve)} [data-testid=approve]`);
  await page.waitForFunction((id) => !document.querySelector(`[data-testid=review] a[data-item="${id}"]`), approve, { timeout: 10000 });
  say("APPROVED " + (await page.textContent("[data-testid=review-status]")));
  await page.waitForSelector("[data-testid=review] td.muted");
  say("EMPTY");
}
