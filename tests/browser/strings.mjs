// node strings.mjs: checks the pages' strings without a browser. Both languages have the same
// keys, and every action, field and choice the ticket desk can show has a label (a missing
// one would show an API name such as `legal_basis` to a handling unit). Prints OK or fails.
import { readFileSync } from "node:fs";
import { STRINGS } from "../../web/i18n.js";

const problems = [];
const zh = Object.keys(STRINGS.zh), en = Object.keys(STRINGS.en);
for (const k of zh) if (!(k in STRINGS.en)) problems.push(`en lacks ${k}`);
for (const k of en) if (!(k in STRINGS.zh)) problems.push(`zh lacks ${k}`);

const src = readFileSync(new URL("../../web/tickets.js", import.meta.url), "utf8");
const table = src.match(/const ACTIONS = \{([\s\S]*?)\n\};/)?.[1] ?? "";
if (!table) problems.push("tickets.js: no ACTIONS table");
const actions = [...table.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]);
const fields = new Set([...table.matchAll(/\["(\w+)", /g)].map((m) => m[1]));
const rated = src.match(/const RATINGS = sel\(([^)]*)\)/)?.[1] ?? "";
const choices = new Set([...`${table}${rated}`.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]).filter((v) => !fields.has(v)));
for (const lang of ["zh", "en"]) {
  for (const a of actions) if (!STRINGS[lang]["act." + a]) problems.push(`${lang}: act.${a}`);
  for (const f of fields) if (!STRINGS[lang]["fld." + f]) problems.push(`${lang}: fld.${f}`);
  for (const c of choices) if (!STRINGS[lang]["opt." + c]) problems.push(`${lang}: opt.${c}`);
}
if (problems.length) {
  process.stderr.write(`missing strings:\n${problems.join("\n")}\n`);
  process.exit(1);
}
process.stdout.write(`OK ${zh.length} keys, ${actions.length} actions, ${fields.size} fields, ${choices.size} choices\n`);
