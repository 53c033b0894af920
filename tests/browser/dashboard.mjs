// The dashboard in headless Chromium, driven by playwright-core. Run by tests/src/dashboard.rs (`browser` phase of
// infra/test), which starts `hersys serve` on a data dir holding a fixture export and passes:
//   BASE_URL           http://127.0.0.1:PORT (the server)
//   CHROMIUM           the browser executable (Debian's /usr/bin/chromium)
//   PLAYWRIGHT_PREFIX  the npm prefix holding node_modules/playwright-core (.tools/node)
//   SCREENSHOTS        a directory for dashboard.png (desktop) and dashboard-phone.png (360 px)
//   SCENARIO           `full` (default: the fixture export), `sparse` (empty and missing series) or `demo` (the real
//                      export of `hersys serve --demo`: Oita's line list and generated HER-SYS reports)
// Prints one line per check and "N passed, M failed"; exits non-zero on any failure.

import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.PLAYWRIGHT_PREFIX, "package.json"));
const { chromium } = require("playwright-core");

const AXE = require.resolve("axe-core/axe.min.js");
const BASE = process.env.BASE_URL.replace(/\/$/, "");
const DATA = `${BASE}/export/`;
let passed = 0;
let failed = 0;

async function check(name, body) {
  try {
    await body();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAILED - ${name}\n    ${String(e?.stack ?? e).split("\n").slice(0, 4).join("\n    ")}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function equal(actual, expected, message) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${message}: expected ${JSON.stringify(expected)?.slice(0, 300)}, got ${JSON.stringify(actual)?.slice(0, 300)}`);
  }
}

let jsonBytes = 0;
async function getJson(url) {
  const res = await fetch(url);
  assert(res.ok, `${url}: HTTP ${res.status}`);
  const text = await res.text();
  jsonBytes += text.length;
  return JSON.parse(text);
}

/** The cell text as the number it shows: "1,234" → 1234, "*" → null, "" → undefined. */
function cellNumber(text) {
  const t = text.trim();
  if (t === "*") return null;
  if (t === "") return undefined;
  return Number(t.replace(/,/g, ""));
}

/** Waits until the page has drawn everything for the given state. */
async function ready(page, { area, lang, per100k } = {}) {
  let selector = 'body[data-status="ready"]';
  if (area) selector += `[data-area="${area}"]`;
  if (lang) selector += `[data-lang="${lang}"]`;
  if (per100k != null) selector += `[data-per100k="${per100k ? 1 : 0}"]`;
  await page.waitForSelector(selector, { timeout: 30000 });
}

/** Reads a section's data table: header cells and rows of [row header, ...numbers]. */
async function readTable(page, seriesId) {
  return page.$eval(`section[data-series="${seriesId}"] table`, (table) => ({
    head: [...table.querySelectorAll("thead th")].map((th) => th.textContent),
    rows: [...table.querySelectorAll("tbody tr")].map((tr) => [...tr.children].map((c) => c.textContent)),
  }));
}

/** Checks a section's table against the series JSON for an area. */
function tableMatches(table, json, area) {
  const data = json.areas[area];
  assert(data, `${json.id}: no area ${area} in the JSON`);
  if (json.shape === "daily") {
    equal(table.rows.map((r) => r[0]), json.dates, `${json.id} dates`);
    json.columns.forEach((c, k) => {
      equal(table.rows.map((r) => cellNumber(r[k + 1])), data[c.id], `${json.id} ${area} column ${c.id}`);
    });
    if (json.columns.length === 1 && table.head.length === 3) {
      // The 7-day average of the last day (none before the seventh day).
      const v = data.value;
      const shown = cellNumber(table.rows[table.rows.length - 1][2]);
      if (v.length < 7) {
        equal(shown, undefined, `${json.id} 7-day average of a series shorter than 7 days`);
      } else {
        const avg = v.slice(-7).reduce((a, b) => a + b, 0) / 7;
        assert(Math.abs(shown - avg) < 0.06, `${json.id} 7-day average ${shown} vs ${avg}`);
      }
    }
  } else {
    const p = json.periods.length - 1;
    json.sexes.forEach((sex, s) => {
      equal(table.rows.map((r) => cellNumber(r[s + 1])), data[sex][p], `${json.id} ${area} ${sex} latest period`);
    });
  }
}

/** Runs axe-core's WCAG 2.1 A and AA rules on the page as it is; returns the violations, one line each. */
async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }, resultTypes: ["violations"] }),
  );
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.length} nodes, e.g. ${v.nodes[0]?.target?.join(" ")}`);
}

/** The served export: its manifest, the series that get a section (all but per-100k targets), and every JSON. */
async function loadExport() {
  const manifest = await getJson(`${DATA}manifest.json`);
  const perTargets = new Set(manifest.series.map((s) => s.per_100k).filter(Boolean));
  const sections = manifest.series.filter((s) => !perTargets.has(s.id));
  const jsons = Object.fromEntries(
    await Promise.all(manifest.series.map(async (s) => [s.id, await getJson(new URL(s.json, DATA).href)])),
  );
  return { manifest, sections, jsons };
}

/** The fixture export (export_fixture::write): every series drawn, tables equal to the data, controls work. */
async function full() {
  const { manifest, sections, jsons } = await loadExport();

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ja-JP" });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
  const started = Date.now();
  await page.goto(`${BASE}/`);
  await ready(page, { area: "ALL", lang: "ja" });
  console.log(`note - first full render (${manifest.series.length} series, ${(jsonBytes / 1e6).toFixed(1)} MB of JSON) in ${Date.now() - started} ms`);

  await check("the linkage section is in Japanese at first", async () => {
    const headline = await page.textContent("#linkage .headline");
    assert(headline.includes("48,213") && headline.includes("入国後28日以内"), `Japanese headline: ${headline}`);
  });

  await check("the page loads the manifest and has a section for every series", async () => {
    const ids = await page.$$eval("section[data-series]", (s) => s.map((x) => x.dataset.series));
    equal(ids, sections.map((s) => s.id), "sections");
    const states = await page.$$eval("section[data-series]", (s) => s.map((x) => x.dataset.state));
    assert(states.every((s) => s === "ready"), `section states ${states}`);
  });

  await check("every series is drawn: an SVG chart with role=img, an aria-label and a caption, bars or lines in it", async () => {
    for (const s of sections) {
      const info = await page.$eval(`section[data-series="${s.id}"]`, (sec) => ({
        svgs: [...sec.querySelectorAll("svg")].map((svg) => ({
          role: svg.getAttribute("role"),
          label: svg.getAttribute("aria-label") ?? "",
          marks: [...svg.querySelectorAll("path.series-bars, path.series-line, path.series-average")].filter((p) => (p.getAttribute("d") ?? "").length > 10).length
            + svg.querySelectorAll("rect.bar").length,
        })),
        captions: [...sec.querySelectorAll("figure")].map((f) => f.querySelector("figcaption")?.textContent ?? ""),
      }));
      assert(info.svgs.length >= 1, `${s.id}: no chart`);
      for (const svg of info.svgs) {
        equal(svg.role, "img", `${s.id} role`);
        assert(svg.label.length > 20, `${s.id}: aria-label too short: ${svg.label}`);
        assert(svg.marks > 0, `${s.id}: nothing drawn`);
      }
      assert(info.captions.length === info.svgs.length && info.captions.every((c) => c.length > 5), `${s.id}: captions ${info.captions}`);
    }
  });

  await check("daily charts of flows have a 7-day average line", async () => {
    const n = await page.$$eval('section[data-series="newly_confirmed_cases_daily"] path.series-average', (p) => p.length);
    equal(n, 1, "average lines in new cases");
  });

  await check("the data tables' numbers match the JSON (national)", async () => {
    for (const s of sections) tableMatches(await readTable(page, s.id), jsons[s.id], "ALL");
  });

  await check("each CSV link points at the manifest's csv", async () => {
    for (const s of sections) {
      const href = await page.$eval(`section[data-series="${s.id}"] a.download`, (a) => a.href);
      equal(href, new URL(s.csv, DATA).href, `${s.id} csv link`);
      const res = await fetch(href);
      assert(res.ok, `${href}: HTTP ${res.status}`);
    }
  });

  await check("the area select lists national and the 47 prefectures in JIS order, in both languages", async () => {
    const options = await page.$$eval("#area option", (o) => o.map((x) => [x.value, x.textContent]));
    equal(options.length, 48, "options");
    equal(options[0][0], "ALL", "first option");
    equal(options[1], ["Hokkaido", "北海道（Hokkaido）"], "Hokkaido");
    equal(options[13][0], "Tokyo", "13th prefecture");
    equal(options[47], ["Okinawa", "沖縄県（Okinawa）"], "Okinawa");
    const label = await page.$eval("label[for=area]", (l) => l.textContent);
    assert(label.length > 0, "the select has a label");
  });

  const firstNational = (await readTable(page, "newly_confirmed_cases_daily")).rows.map((r) => r[1]);

  await check("switching prefecture (keyboard) changes the numbers to that prefecture's", async () => {
    await page.focus("#area");
    const switched = Date.now();
    await page.selectOption("#area", "Tokyo");
    await ready(page, { area: "Tokyo" });
    console.log(`note - re-render for another prefecture in ${Date.now() - switched} ms`);
    for (const s of sections) tableMatches(await readTable(page, s.id), jsons[s.id], "Tokyo");
    const tokyo = (await readTable(page, "newly_confirmed_cases_daily")).rows.map((r) => r[1]);
    assert(JSON.stringify(tokyo) !== JSON.stringify(firstNational), "the numbers did not change");
    const source = await page.textContent("#source");
    assert(source.includes("HER-SYS") && source.includes("2021-04-01"), `source of Tokyo: ${source}`);
    assert(page.url().includes("area=Tokyo"), `the URL keeps the area: ${page.url()}`);
    // And with the keyboard alone: one step down from Tokyo is Kanagawa.
    await page.focus("#area");
    await page.keyboard.press("ArrowDown");
    await ready(page, { area: "Kanagawa" });
    tableMatches(await readTable(page, "severe_cases_daily"), jsons.severe_cases_daily, "Kanagawa");
  });

  await check("the per-100k toggle (Space key) shows the per-100k series with its own CSV", async () => {
    const base = manifest.series.find((s) => s.per_100k);
    assert(base, "the manifest names a per_100k series");
    assert(await page.isVisible("#per100k"), "the toggle is shown");
    await page.focus("#per100k");
    await page.keyboard.press("Space");
    await ready(page, { per100k: true });
    const shown = await page.$eval(`section[data-series="${base.id}"]`, (s) => s.dataset.shown);
    equal(shown, base.per_100k, "shown series");
    tableMatches(await readTable(page, base.id), jsons[base.per_100k], "Kanagawa");
    const marks = await page.$$eval(`section[data-series="${base.id}"] path.series-bars`, (p) => p.map((x) => x.getAttribute("d").length));
    assert(marks.length === 1 && marks[0] > 10, "the per-100k series is drawn");
    const per = manifest.series.find((s) => s.id === base.per_100k);
    const href = await page.$eval(`section[data-series="${base.id}"] a.download`, (a) => a.href);
    equal(href, new URL(per?.csv ?? `csv/${base.per_100k}.csv`, DATA).href, "per-100k csv link");
    await page.keyboard.press("Space");
    await ready(page, { per100k: false });
  });

  await check("the language switch (Enter key) changes headings and the lang attribute", async () => {
    equal(await page.getAttribute("html", "lang"), "ja", "lang before");
    const h1Ja = await page.textContent("h1");
    const h2Ja = await page.textContent(`section[data-series="${sections[0].id}"] h2`);
    equal(h2Ja, jsons[sections[0].id].title.ja, "Japanese heading");
    await page.focus("#lang-switch");
    await page.keyboard.press("Enter");
    await ready(page, { lang: "en" });
    equal(await page.getAttribute("html", "lang"), "en", "lang after");
    const h1En = await page.textContent("h1");
    assert(h1En !== h1Ja && /COVID-19/.test(h1En), `h1 ${h1En}`);
    for (const s of sections) {
      equal(await page.textContent(`section[data-series="${s.id}"] h2`), jsons[s.id].title.en, `${s.id} English heading`);
    }
    const summary = await page.textContent(`section[data-series="${sections[0].id}"] summary`);
    equal(summary, "Data table", "disclosure label");
    const option = await page.$eval('#area option[value="Hokkaido"]', (o) => o.textContent);
    equal(option, "Hokkaido (北海道)", "English option");
  });

  await check("the linkage statistics the manifest names: headline in the language, every CSV link answers", async () => {
    const linkage = manifest.linkage;
    assert(linkage, "the fixture manifest names linkage statistics");
    const headline = await page.textContent("#linkage .headline");
    assert(headline.includes("48,213") && headline.includes("312") && headline.includes("0.6"), `English headline: ${headline}`);
    equal(await page.textContent("#h-linkage"), "Entrants linked with reported cases (passport numbers)", "English heading");
    const hrefs = await page.$$eval("#linkage a", (a) => a.map((x) => x.href));
    equal(hrefs, linkage.csv.map((f) => new URL(f, DATA).href), "linkage CSV links");
    for (const href of hrefs) assert((await fetch(href)).ok, `${href} answers`);
  });

  await check("axe-core finds no WCAG 2.1 A/AA violation (English, a table open, per-100k on)", async () => {
    await page.check("#per100k");
    await ready(page, { per100k: true });
    await page.click(`section[data-series="${sections[0].id}"] summary`);
    equal(await axeViolations(page), [], "violations");
    await page.uncheck("#per100k");
    await ready(page, { per100k: false });
  });

  await check("no script errors", async () => {
    equal(pageErrors, [], "page errors");
  });

  if (process.env.SCREENSHOTS) {
    await page.goto(`${BASE}/?lang=ja&area=ALL`);
    await ready(page, { area: "ALL", lang: "ja" });
    await page.click(`section[data-series="${sections[0].id}"] summary`); // one data table open, to show it
    await page.screenshot({ path: path.join(process.env.SCREENSHOTS, "dashboard.png"), fullPage: true });
  }
  await context.close();

  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: "ja-JP" });
  const small = await phone.newPage();
  small.on("pageerror", (e) => pageErrors.push(String(e)));
  await small.goto(`${BASE}/?area=Oita`);
  await ready(small, { area: "Oita" });
  await check("on a 360 px phone nothing overflows sideways and the charts fit", async () => {
    const widths = await small.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      charts: [...document.querySelectorAll("svg.chart-svg")].map((s) => s.getBoundingClientRect().right),
    }));
    assert(widths.page <= 360, `page width ${widths.page}`);
    assert(widths.charts.every((r) => r <= 360), `chart edges ${widths.charts}`);
    tableMatches(await readTable(small, "newly_confirmed_cases_daily"), jsons.newly_confirmed_cases_daily, "Oita");
  });
  await check("axe-core finds no WCAG 2.1 A/AA violation on the phone (Japanese)", async () => {
    equal(await axeViolations(small), [], "violations");
  });
  if (process.env.SCREENSHOTS) {
    await small.screenshot({ path: path.join(process.env.SCREENSHOTS, "dashboard-phone.png"), fullPage: true, clip: { x: 0, y: 0, width: 360, height: 1400 } });
  }
  await phone.close();
}

/** A sparse export (export_fixture::write_sparse): empty and missing series are said so, and nothing breaks. */
async function sparse() {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // The missing series' 404 is expected; any other console error is not.
  page.on("console", (m) => m.type() === "error" && !m.text().includes("404") && pageErrors.push(m.text()));
  await page.goto(`${BASE}/?lang=en`);
  await ready(page, { area: "ALL", lang: "en" });
  const states = () => page.$$eval("section[data-series]", (s) => s.map((x) => [x.dataset.series, x.dataset.state]));
  await check("a sparse export: drawn, empty and missing series each say so", async () => {
    equal(await states(), [
      ["newly_confirmed_cases_daily", "ready"],
      ["severe_cases_daily", "empty"],
      ["deaths_detail_cumulative_weekly", "empty"],
      ["number_of_deaths_daily", "error"],
    ], "section states");
    const text = await page.textContent('section[data-series="severe_cases_daily"]');
    assert(text.includes("no data"), `empty series: ${text}`);
    assert(!(await page.isVisible('section[data-series="severe_cases_daily"] details')), "an empty series has no table to disclose");
    const error = await page.textContent('section[data-series="number_of_deaths_daily"]');
    assert(error.includes("could not be loaded"), `missing series: ${error}`);
    tableMatches(await readTable(page, "newly_confirmed_cases_daily"), await getJson(`${DATA}json/newly_confirmed_cases_daily.json`), "ALL");
  });
  await check("markup in a title shows as text", async () => {
    equal(await page.textContent('section[data-series="number_of_deaths_daily"] h2'), "Deaths <b>x</b>", "title");
    equal(await page.$$eval("main b", (b) => b.length), 0, "b elements");
  });
  await check("without per_100k or sources, their controls are hidden", async () => {
    assert(!(await page.isVisible("#per100k")), "the per-100k toggle is shown");
    assert(!(await page.isVisible("#source")), "an empty source is shown");
  });
  await check("an area missing from a series' JSON shows no data for it", async () => {
    await page.selectOption("#area", "Hokkaido");
    await ready(page, { area: "Hokkaido" });
    equal((await states())[0], ["newly_confirmed_cases_daily", "empty"], "Hokkaido");
    await page.selectOption("#area", "Tokyo");
    await ready(page, { area: "Tokyo" });
    tableMatches(await readTable(page, "newly_confirmed_cases_daily"), await getJson(`${DATA}json/newly_confirmed_cases_daily.json`), "Tokyo");
  });
  await check("no script errors", async () => equal(pageErrors, [], "page errors"));
  await context.close();
}

/** The real export, as `hersys serve --demo` makes it (the export function's own code on Oita's real line list and
 * generated HER-SYS reports of four pilot prefectures): every series drawn, tables equal to the data, sources right. */
async function demo() {
  const { manifest, sections, jsons } = await loadExport();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && pageErrors.push(m.text()));
  await page.goto(`${BASE}/?lang=en`);
  await ready(page, { area: "ALL", lang: "en" });

  await check("the real export: a drawn section for each of the 11 series", async () => {
    equal(manifest.series.length, 11, "series in the manifest");
    const ids = await page.$$eval("section[data-series]", (s) => s.map((x) => [x.dataset.series, x.dataset.state]));
    equal(ids, sections.map((s) => [s.id, "ready"]), "sections");
    for (const s of sections) {
      const marks = await page.$$eval(`section[data-series="${s.id}"] svg`, (svgs) =>
        svgs.map((svg) => [...svg.querySelectorAll("path.series-bars, path.series-line, path.series-average")].filter((p) => (p.getAttribute("d") ?? "").length > 10).length + svg.querySelectorAll("rect.bar").length));
      assert(marks.length >= 1 && marks.every((m) => m > 0), `${s.id}: nothing drawn (${marks})`);
    }
  });

  for (const area of ["ALL", "Tokyo", "Oita"]) {
    await check(`the real export: tables equal the JSON (${area})`, async () => {
      if (area !== "ALL") {
        await page.selectOption("#area", area);
        await ready(page, { area });
      }
      for (const s of sections) tableMatches(await readTable(page, s.id), jsons[s.id], area);
    });
  }

  await check("the real export: Oita's numbers come from its line list, Tokyo's from HER-SYS", async () => {
    const oita = (await page.textContent("#source")) ?? "";
    assert(/line list/i.test(oita), `source of Oita: ${oita}`);
    const total = (area) => jsons.newly_confirmed_cases_daily.areas[area].value.reduce((a, b) => a + b, 0);
    equal(total("Oita"), 8096, "Oita's cases in the line list");
    await page.selectOption("#area", "Tokyo");
    await ready(page, { area: "Tokyo" });
    const tokyo = (await page.textContent("#source")) ?? "";
    assert(tokyo.includes("HER-SYS"), `source of Tokyo: ${tokyo}`);
    const severe = (await readTable(page, "severe_cases_daily")).rows.map((r) => cellNumber(r[1]));
    assert(severe.some((v) => v > 0), "Tokyo has severe cases from HER-SYS status histories");
  });

  await check("the page the export wrote beside its data works from there (/export/index.html)", async () => {
    await page.goto(`${DATA}index.html?lang=en&area=Oita`);
    await ready(page, { area: "Oita", lang: "en" });
    const ids = await page.$$eval("section[data-series]", (s) => s.map((x) => [x.dataset.series, x.dataset.state]));
    equal(ids, sections.map((s) => [s.id, "ready"]), "sections beside the data");
    tableMatches(await readTable(page, "newly_confirmed_cases_daily"), jsons.newly_confirmed_cases_daily, "Oita");
  });

  await check("no script errors", async () => equal(pageErrors, [], "page errors"));
  await context.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  // As root (CI), Chromium's sandbox needs user namespaces the container may not give.
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--font-render-hinting=none"],
});
const pageErrors = [];
try {
  if (process.env.SCENARIO === "sparse") await sparse();
  else if (process.env.SCENARIO === "demo") await demo();
  else await full();
} catch (e) {
  failed++;
  console.log(`FAILED - the run itself\n    ${String(e?.stack ?? e)}`);
  if (pageErrors.length) console.log(`page errors:\n    ${pageErrors.join("\n    ")}`);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
