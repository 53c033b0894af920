// The dashboard: reads manifest.json and json/<id>.json of the graph export (docs/export-format.md) from the data
// base URL (the <meta name="hersys-data-base"> of the page, `export/` beside it; `?data=URL` overrides) and draws
// every series of the manifest for the chosen area, in Japanese or English.
//
// State lives in the URL (?lang=en&area=Tokyo&per100k=1), so a view can be linked to.
// Data strings reach the DOM only as text (textContent or escaped), never as markup.

import { LANGS, PREFECTURES, TEXT } from "./i18n.js";
import { COLOURS, dailyChart, groupedBars, movingAverage7 } from "./charts.js";

const params = new URLSearchParams(location.search);
const AREA_KEYS = new Set(["ALL", ...PREFECTURES.map(([, en]) => en)]);

const state = {
  lang: LANGS.includes(params.get("lang")) ? params.get("lang") : "ja",
  area: AREA_KEYS.has(params.get("area")) ? params.get("area") : "ALL",
  per100k: params.get("per100k") === "1",
  manifest: null,
  base: dataBase(),
  generation: 0,
};
const loaded = new Map(); // URL → Promise of the parsed series JSON

const $ = (selector) => document.querySelector(selector);
const t = () => TEXT[state.lang];

function dataBase() {
  const meta = document.querySelector('meta[name="hersys-data-base"]')?.getAttribute("content");
  const base = new URL(params.get("data") || meta || "export/", location.href);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  return base;
}

function dataUrl(relative) {
  return new URL(relative, state.base).href;
}

function load(relative) {
  const url = dataUrl(relative);
  if (!loaded.has(url)) {
    const promise = fetch(url, { cache: "no-cache" }).then((res) => {
      if (!res.ok) throw new Error(`${res.status}`);
      return res.json();
    });
    promise.catch(() => loaded.delete(url)); // a failed load is tried again on the next render
    loaded.set(url, promise);
  }
  return loaded.get(url);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function locale() {
  return state.lang === "ja" ? "ja-JP" : "en-GB";
}

function numberFormat(decimals) {
  const f = new Intl.NumberFormat(locale(), { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  return (v) => (v == null ? "*" : f.format(v));
}

function axisFormat(v) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1, notation: v >= 100000 ? "compact" : "standard" }).format(v);
}

function monthLabel(year, month) {
  return new Intl.DateTimeFormat(locale(), { year: "numeric", month: "short", timeZone: "UTC" }).format(Date.UTC(year, month - 1, 1));
}

function areaName(key) {
  if (key === "ALL") return t().national;
  const pref = PREFECTURES.find(([, en]) => en === key);
  if (!pref) return key;
  return state.lang === "ja" ? pref[2] : pref[1];
}

function title(entry, json) {
  const text = json?.title ?? entry.title;
  return text?.[state.lang] ?? text?.ja ?? entry.id;
}

// ------------------------------------------------------------------ sections

/** The manifest's series that get a section: all but those reached through another series' `per_100k` toggle. */
function sectionEntries(manifest) {
  const listed = new Set(manifest.series.map((s) => s.id));
  const perTargets = new Set(manifest.series.map((s) => s.per_100k).filter((id) => id && listed.has(id)));
  return manifest.series.filter((s) => !perTargets.has(s.id));
}

/** The manifest entry shown in a section now: the per-100k one when the toggle is on and the series has one. */
function shownEntry(entry) {
  if (!(state.per100k && entry.per_100k)) return entry;
  return (
    state.manifest.series.find((s) => s.id === entry.per_100k) ?? {
      id: entry.per_100k,
      shape: entry.shape,
      json: `json/${entry.per_100k}.json`,
      csv: `csv/${entry.per_100k}.csv`,
      title: null,
    }
  );
}

function buildSections() {
  const main = $("#main");
  main.replaceChildren();
  for (const entry of sectionEntries(state.manifest)) {
    const section = document.createElement("section");
    section.className = "series";
    section.dataset.series = entry.id;
    section.setAttribute("aria-labelledby", `h-${entry.id}`);
    const h2 = document.createElement("h2");
    h2.id = `h-${entry.id}`;
    h2.textContent = title(entry);
    const meta = document.createElement("p");
    meta.className = "meta";
    const body = document.createElement("div");
    body.className = "body";
    section.append(h2, meta, body);
    section.entry = entry;
    main.append(section);
  }
  if (state.manifest.linkage) {
    const section = document.createElement("section");
    section.className = "linkage";
    section.id = "linkage";
    section.setAttribute("aria-labelledby", "h-linkage");
    const h2 = document.createElement("h2");
    h2.id = "h-linkage";
    const headline = document.createElement("p");
    headline.className = "headline";
    const files = document.createElement("ul");
    files.className = "files";
    section.append(h2, headline, files);
    main.append(section);
    applyLinkage();
  }
}

/** The linkage statistics the manifest names: the headline share and the CSV files, in the language. */
function applyLinkage() {
  const section = $("#linkage");
  const linkage = state.manifest?.linkage;
  if (!section || !linkage) return;
  section.querySelector("h2").textContent = t().linkageTitle;
  const p = linkage.negative_then_diagnosed_28d ?? {};
  const number = (v) => new Intl.NumberFormat(locale()).format(v);
  const percent = (v) => new Intl.NumberFormat(locale(), { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(v * 100);
  const at = linkage.computed_at ? new Date(linkage.computed_at) : null;
  const when = at && !Number.isNaN(at.getTime()) ? new Intl.DateTimeFormat(locale(), { year: "numeric", month: "short", day: "numeric", timeZone: "Asia/Tokyo" }).format(at) : "";
  const total = p.negative_entrants == null ? null : number(p.negative_entrants);
  const count = p.diagnosed_within_28_days == null ? null : number(p.diagnosed_within_28_days);
  const share = p.share == null ? null : { share: percent(p.share), low: percent(p.ci95_low), high: percent(p.ci95_high) };
  section.querySelector(".headline").textContent = t().linkageHeadline(total, count, share, when);
  section.querySelector(".files").replaceChildren(
    ...(linkage.csv ?? []).map((file) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = dataUrl(file);
      a.textContent = t().linkageFiles[file.replace(/^csv\//, "").replace(/\.csv$/, "")] ?? file;
      a.setAttribute("download", "");
      li.append(a);
      return li;
    }),
  );
}

async function renderSection(section, generation) {
  const entry = shownEntry(section.entry);
  section.dataset.state = "loading";
  let json;
  try {
    json = await load(entry.json);
  } catch {
    if (generation !== state.generation) return;
    section.dataset.state = "error";
    section.querySelector("h2").textContent = title(entry);
    section.querySelector(".meta").textContent = "";
    const p = document.createElement("p");
    p.className = "status error";
    p.textContent = t().loadError;
    section.querySelector(".body").replaceChildren(p);
    return;
  }
  if (generation !== state.generation) return;
  const body = section.querySelector(".body");
  const wasOpen = body.querySelector("details")?.open ?? false;
  const width = Math.max(260, Math.floor(body.clientWidth || 600));
  section.dataset.shown = entry.id;
  section.querySelector("h2").textContent = title(entry, json);
  const parts = json.shape === "sex_age" ? sexAgeParts(entry, json, width) : dailyParts(entry, json, width);
  section.querySelector(".meta").textContent = parts.meta;
  const details = document.createElement("details");
  details.open = wasOpen;
  const summary = document.createElement("summary");
  summary.textContent = t().dataTable;
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.tabIndex = 0; // a scrolling region must be reachable by keyboard
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", `${t().dataTable}: ${title(entry, json)}`);
  wrap.innerHTML = parts.table;
  details.append(summary, wrap);
  details.hidden = parts.empty; // no table to disclose
  if (parts.note) {
    const note = document.createElement("p");
    note.className = "note";
    note.textContent = parts.note;
    details.append(note);
  }
  const link = document.createElement("a");
  link.className = "download";
  link.href = dataUrl(entry.csv ?? `csv/${entry.id}.csv`);
  link.setAttribute("download", "");
  link.textContent = `${t().downloadCsv} (${title(entry, json)})`;
  body.replaceChildren(...parts.figures, details, link);
  section.dataset.state = parts.empty ? "empty" : "ready";
}

function figure(captionText, chart, legend) {
  const fig = document.createElement("figure");
  if (legend) fig.append(legend);
  const holder = document.createElement("div");
  holder.className = "chart";
  if (chart) holder.append(chart);
  const caption = document.createElement("figcaption");
  caption.textContent = captionText;
  fig.append(holder, caption);
  return fig;
}

function legendList(items) {
  const ul = document.createElement("ul");
  ul.className = "legend";
  ul.setAttribute("aria-hidden", "true"); // the caption and the aria-label say the same in words
  for (const { label, colour, line } of items) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = line ? "swatch line" : "swatch";
    sw.style.background = colour;
    li.append(sw, document.createTextNode(label));
    ul.append(li);
  }
  return ul;
}

function isCumulative(seriesId, columnId) {
  return seriesId.includes("cumulative") || columnId === "discharged_or_released";
}

/** A series without data for the area: said in words, no chart, no table. */
function emptyParts(seriesTitle, place) {
  const text = t().chartSummaryEmpty({ title: seriesTitle, area: place });
  return { meta: t().empty, figures: [figure(text, null)], table: "", empty: true };
}

function dailyParts(entry, json, width) {
  const area = json.areas?.[state.area];
  const dates = json.dates ?? [];
  const columns = json.columns ?? [];
  const seriesTitle = title(entry, json);
  const place = areaName(state.area);
  if (!area || dates.length === 0) return emptyParts(seriesTitle, place);
  const all = columns.flatMap((c) => area[c.id] ?? []);
  const decimals = all.some((v) => v != null && !Number.isInteger(v)) ? 1 : 0;
  const fmt = numberFormat(decimals);
  const fmtAvg = numberFormat(decimals + 1);
  const single = columns.length === 1;
  const figures = [];
  const averages = {};
  for (const column of columns) {
    const values = area[column.id] ?? [];
    const cumulative = isCumulative(json.id ?? entry.id, column.id);
    const average = cumulative ? null : movingAverage7(values);
    averages[column.id] = average;
    const name = single ? seriesTitle : `${seriesTitle}: ${column.label?.[state.lang] ?? column.id}`;
    const last = values.length - 1;
    let maxIndex = 0;
    values.forEach((v, i) => {
      if (v != null && v > (values[maxIndex] ?? -Infinity)) maxIndex = i;
    });
    const summary = t().chartSummaryDaily({
      title: name, area: place, from: dates[0], to: dates[last], last: fmt(values[last]),
      avg: average?.[last] == null ? null : fmtAvg(average[last]), max: fmt(values[maxIndex]), maxDate: dates[maxIndex],
    });
    const chart = dailyChart({
      dates, values, average, kind: cumulative ? "line" : "bars", width, height: single ? 220 : 170,
      label: summary, format: axisFormat, monthLabel,
    });
    const legend = cumulative
      ? legendList([{ label: column.label?.[state.lang] ?? name, colour: COLOURS.line, line: true }])
      : legendList([
          { label: t().daily, colour: COLOURS.bar },
          { label: t().avg7, colour: COLOURS.avg, line: true },
        ]);
    const fig = figure(t().captionDaily({ title: name, area: place, cumulative }), chart, legend);
    if (!single) {
      const h3 = document.createElement("h3");
      h3.textContent = column.label?.[state.lang] ?? column.id;
      figures.push(h3);
    }
    figures.push(fig);
  }
  // The table: every date, each column, and the 7-day average of a single non-cumulative column.
  const withAverage = single && averages[columns[0].id];
  const head = [
    `<th scope="col">${escapeHtml(t().date)}</th>`,
    ...columns.map((c) => `<th scope="col">${escapeHtml(single ? t().daily : (c.label?.[state.lang] ?? c.id))}</th>`),
    ...(withAverage ? [`<th scope="col">${escapeHtml(t().avg7)}</th>`] : []),
  ].join("");
  const rows = dates
    .map((d, i) => {
      const cells = columns.map((c) => `<td>${fmt(area[c.id]?.[i])}</td>`).join("");
      const avg = withAverage ? `<td>${averages[columns[0].id][i] == null ? "" : fmtAvg(averages[columns[0].id][i])}</td>` : "";
      return `<tr><th scope="row">${escapeHtml(d)}</th>${cells}${avg}</tr>`;
    })
    .join("");
  const caption = `${escapeHtml(seriesTitle)} (${escapeHtml(place)})`;
  const table = `<table data-kind="daily"><caption>${caption}</caption><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  return { meta: `${t().lastDate}: ${dates[dates.length - 1]}`, figures, table, empty: false };
}

function sexAgeParts(entry, json, width) {
  const area = json.areas?.[state.area];
  const periods = json.periods ?? [];
  const seriesTitle = title(entry, json);
  const place = areaName(state.area);
  if (!area || periods.length === 0) return emptyParts(seriesTitle, place);
  const p = periods.length - 1;
  const period = t().latestPeriod(periods[p].from, periods[p].to);
  const bands = (json.age_bands ?? []).map((b) => b.label?.[state.lang] ?? b.id);
  const sexes = (json.sexes ?? []).map((id) => ({ id, label: t()[id] ?? id, values: area[id]?.[p] ?? [] }));
  const fmt = numberFormat(0);
  let max = { v: -1, label: "" };
  for (const s of sexes) {
    s.values.forEach((v, b) => {
      if (v != null && v > max.v) max = { v, label: `${s.label} ${bands[b]}` };
    });
  }
  const summary = t().chartSummarySexAge({ title: seriesTitle, area: place, period, max: fmt(max.v), maxLabel: max.label });
  const chart = groupedBars({ bands, sexes, width, label: summary, format: axisFormat });
  const legend = legendList(sexes.map((s) => ({ label: s.label, colour: COLOURS[s.id] ?? COLOURS.bar })));
  const figures = [figure(t().captionSexAge({ title: seriesTitle, area: place, period }), chart, legend)];
  const head = [`<th scope="col">${escapeHtml(t().ageBand)}</th>`, ...sexes.map((s) => `<th scope="col">${escapeHtml(s.label)}</th>`)].join("");
  const rows = bands
    .map((label, b) => `<tr><th scope="row">${escapeHtml(label)}</th>${sexes.map((s) => `<td>${fmt(s.values[b])}</td>`).join("")}</tr>`)
    .join("");
  const caption = `${escapeHtml(seriesTitle)} (${escapeHtml(place)}), ${escapeHtml(period)}`;
  const table = `<table data-kind="sex_age" data-period="${escapeHtml(p)}"><caption>${caption}</caption><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
  return { meta: `${t().period}: ${periods[p].from} – ${periods[p].to}`, figures, table, note: t().suppressed, empty: false };
}

// ------------------------------------------------------------------ controls and texts

function applyTexts() {
  document.documentElement.lang = state.lang;
  document.title = t().title;
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = t()[node.dataset.text];
  const other = LANGS.find((l) => l !== state.lang);
  const button = $("#lang-switch");
  button.textContent = t().languageSwitch;
  button.lang = other;
  button.setAttribute("aria-label", t().languageSwitchLabel);
  const select = $("#area");
  const options = [["ALL", t().national]].concat(
    PREFECTURES.map(([, en, ja]) => [en, state.lang === "ja" ? `${ja}（${en}）` : `${en} (${ja})`]),
  );
  select.replaceChildren(
    ...options.map(([value, label]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = label;
      return option;
    }),
  );
  select.value = state.area;
  $("#per100k").checked = state.per100k;
  if (state.manifest) applyAbout();
}

function applyAbout() {
  const manifest = state.manifest;
  $("#about").hidden = false;
  const at = manifest.generated_at ? new Date(manifest.generated_at) : null;
  $("#generated-at").textContent =
    at && !Number.isNaN(at.getTime())
      ? new Intl.DateTimeFormat(locale(), { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "Asia/Tokyo", timeZoneName: "short" }).format(at)
      : "";
  const source = sourceText(manifest.sources ?? {});
  $("#source").textContent = source;
  $("#source").parentElement.hidden = source === "";
  applyLinkage();
}

function sourceText(sources) {
  const describe = (s) => (s?.source === "hersys" ? t().sourceHersys(s.hersys_from ?? "") : t().sourceLinelist);
  if (state.area !== "ALL") return sources[state.area] ? describe(sources[state.area]) : "";
  const kinds = new Set(Object.values(sources).map((s) => s?.source));
  if (kinds.size === 0) return "";
  if (kinds.size > 1) return t().sourceMixed;
  return kinds.has("hersys") ? "HER-SYS" : t().sourceLinelist;
}

function syncUrl() {
  const next = new URLSearchParams(location.search);
  next.set("lang", state.lang);
  if (state.area === "ALL") next.delete("area");
  else next.set("area", state.area);
  if (state.per100k) next.set("per100k", "1");
  else next.delete("per100k");
  history.replaceState(null, "", `${location.pathname}?${next}${location.hash}`);
}

async function renderAll() {
  const generation = ++state.generation;
  document.body.dataset.status = "loading";
  document.body.dataset.area = state.area;
  document.body.dataset.lang = state.lang;
  document.body.dataset.per100k = state.per100k ? "1" : "0";
  const sections = [...document.querySelectorAll("#main section.series")];
  await Promise.all(sections.map((s) => renderSection(s, generation)));
  if (generation === state.generation) document.body.dataset.status = "ready";
}

function update(change) {
  Object.assign(state, change);
  applyTexts();
  syncUrl();
  renderAll();
}

async function start() {
  applyTexts();
  $("#status").textContent = t().loading;
  $("#lang-switch").addEventListener("click", () => update({ lang: LANGS.find((l) => l !== state.lang) }));
  $("#area").addEventListener("change", (e) => update({ area: e.target.value }));
  $("#per100k").addEventListener("change", (e) => update({ per100k: e.target.checked }));
  let manifest;
  try {
    manifest = await load("manifest.json");
  } catch {
    $("#status").textContent = t().loadError;
    $("#status").classList.add("error");
    document.body.dataset.status = "error";
    return;
  }
  state.manifest = manifest;
  $("#status").textContent = "";
  $("#per100k-control").hidden = !manifest.series.some((s) => s.per_100k);
  applyTexts();
  syncUrl();
  buildSections();
  await renderAll();
  let timer;
  let lastWidth = window.innerWidth;
  window.addEventListener("resize", () => {
    if (window.innerWidth === lastWidth) return;
    lastWidth = window.innerWidth;
    clearTimeout(timer);
    timer = setTimeout(renderAll, 150);
  });
}

start();
