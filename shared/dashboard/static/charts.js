// Hand-written SVG charts: a daily time series (bars or a line, with an optional 7-day average line) and grouped
// bars by age band and sex. Each returns an <svg role="img" aria-label="..."> sized to the width it is given.

const SVG = "http://www.w3.org/2000/svg";

// Colours chosen for at least 3:1 contrast against the white background (WCAG 1.4.11), and told apart by shape
// as well as hue (bars against a thick line; the legend repeats them).
export const COLOURS = {
  bar: "#4a78b5",
  avg: "#b3400b",
  line: "#1d4f91",
  male: "#1f5f9e",
  female: "#b3400b",
  grid: "#d4d4d4",
  axis: "#555555",
  text: "#222222",
};

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text != null) node.textContent = text;
  return node;
}

/** Up to about `count` round tick values from 0 to at least `max`. */
export function niceTicks(max, count = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The trailing 7-day average of `values` (null until 7 days are known, or where a day is missing). */
export function movingAverage7(values) {
  return values.map((_, i) => {
    if (i < 6) return null;
    let sum = 0;
    for (let j = i - 6; j <= i; j++) {
      if (values[j] == null) return null;
      sum += values[j];
    }
    return sum / 7;
  });
}

function frame(width, height, label) {
  const svg = el("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": label,
    class: "chart-svg",
  });
  return svg;
}

function yAxis(svg, ticks, y, left, right, format) {
  for (const t of ticks) {
    const yy = y(t);
    svg.append(el("line", { x1: left, x2: right, y1: yy, y2: yy, stroke: COLOURS.grid, "stroke-width": 1 }));
    svg.append(el("text", { x: left - 6, y: yy + 4, "text-anchor": "end", "font-size": 12, fill: COLOURS.text }, format(t)));
  }
}

/**
 * A daily chart.
 * opts: { dates: ISO strings, values: numbers|null, average: numbers|null|undefined, kind: "bars"|"line",
 *         width, height, label (aria-label), format (number → text), monthLabel (Date → text) }
 */
export function dailyChart(opts) {
  const { dates, values, average, kind, width, height = 220, label, format, monthLabel } = opts;
  const svg = frame(width, height, label);
  const margin = { top: 10, right: 10, bottom: 26, left: 52 };
  const innerW = Math.max(10, width - margin.left - margin.right);
  const innerH = height - margin.top - margin.bottom;
  const max = Math.max(0, ...values.filter((v) => v != null), ...(average ?? []).filter((v) => v != null));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1] || 1;
  const n = Math.max(1, dates.length);
  const band = innerW / n;
  const x = (i) => margin.left + band * (i + 0.5);
  const y = (v) => margin.top + innerH - (v / top) * innerH;
  yAxis(svg, ticks, y, margin.left, width - margin.right, format);

  // Month ticks on the x axis, every 1, 2, 3, 6 or 12 months: the first step that leaves a label about 80 px.
  const pxPerMonth = (innerW / n) * 30.44;
  const step = [1, 2, 3, 6, 12].find((m) => m * pxPerMonth >= 80) ?? 12;
  dates.forEach((d, i) => {
    const [yy, mm, dd] = d.split("-").map(Number);
    // Month starts on the step; the first day too when the series is shorter than a month.
    if (!(dd === 1 && (mm - 1) % step === 0) && !(i === 0 && n < 32)) return;
    const xx = margin.left + band * i;
    if (xx + 60 > width) return; // the last label would be cut at the right edge
    svg.append(el("line", { x1: xx, x2: xx, y1: margin.top + innerH, y2: margin.top + innerH + 4, stroke: COLOURS.axis }));
    svg.append(el("text", { x: xx + 2, y: height - 8, "font-size": 12, fill: COLOURS.text }, monthLabel(yy, mm)));
  });
  svg.append(el("line", {
    x1: margin.left, x2: width - margin.right, y1: margin.top + innerH, y2: margin.top + innerH, stroke: COLOURS.axis,
  }));

  if (kind === "bars") {
    let d = "";
    values.forEach((v, i) => {
      if (v != null && v > 0) d += `M${x(i).toFixed(2)},${y(0).toFixed(2)}V${y(v).toFixed(2)}`;
    });
    svg.append(el("path", {
      d, class: "series-bars", stroke: COLOURS.bar, "stroke-width": Math.max(1, band * 0.75).toFixed(2), fill: "none",
    }));
  } else {
    svg.append(el("path", { d: linePath(values, x, y), class: "series-line", stroke: COLOURS.line, "stroke-width": 2, fill: "none" }));
  }
  if (average) {
    // A white halo under the average line keeps it apart from the bars it crosses.
    svg.append(el("path", { d: linePath(average, x, y), stroke: "#ffffff", "stroke-width": 5, fill: "none", "stroke-linejoin": "round" }));
    svg.append(el("path", { d: linePath(average, x, y), class: "series-average", stroke: COLOURS.avg, "stroke-width": 2.5, fill: "none" }));
  }
  return svg;
}

function linePath(values, x, y) {
  let d = "";
  let pen = false;
  values.forEach((v, i) => {
    if (v == null) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${x(i).toFixed(2)},${y(v).toFixed(2)}`;
    pen = true;
  });
  return d;
}

/**
 * Grouped bars: one group per age band, one bar per sex. A suppressed cell (null) is marked with "*".
 * opts: { bands: labels, sexes: [{id, label, values}], width, height, label, format }
 */
export function groupedBars(opts) {
  const { bands, sexes, width, height = 240, label, format } = opts;
  const svg = frame(width, height, label);
  const margin = { top: 10, right: 10, bottom: 44, left: 52 };
  const innerW = Math.max(10, width - margin.left - margin.right);
  const innerH = height - margin.top - margin.bottom;
  const max = Math.max(0, ...sexes.flatMap((s) => s.values.filter((v) => v != null)));
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1] || 1;
  const y = (v) => margin.top + innerH - (v / top) * innerH;
  yAxis(svg, ticks, y, margin.left, width - margin.right, format);
  const group = innerW / Math.max(1, bands.length);
  const barW = (group * 0.8) / Math.max(1, sexes.length);
  bands.forEach((bandLabel, b) => {
    const gx = margin.left + group * b + group * 0.1;
    sexes.forEach((sex, s) => {
      const v = sex.values[b];
      const bx = gx + barW * s;
      if (v == null) {
        svg.append(el("text", { x: bx + barW / 2, y: y(0) - 3, "text-anchor": "middle", "font-size": 12, fill: COLOURS.text }, "*"));
      } else {
        svg.append(el("rect", {
          x: bx.toFixed(2), y: y(v).toFixed(2), width: Math.max(1, barW - 1).toFixed(2), height: Math.max(0, y(0) - y(v)).toFixed(2),
          fill: COLOURS[sex.id] ?? COLOURS.bar, class: `bar bar-${sex.id}`,
        }));
      }
    });
    // Band labels, turned when the groups are narrow (a phone).
    const tx = margin.left + group * (b + 0.5);
    const ty = margin.top + innerH + 14;
    const turned = group < 44;
    svg.append(el("text", {
      x: tx, y: ty, "font-size": 11, fill: COLOURS.text,
      "text-anchor": turned ? "end" : "middle",
      transform: turned ? `rotate(-40 ${tx} ${ty})` : "",
    }, bandLabel));
  });
  svg.append(el("line", { x1: margin.left, x2: width - margin.right, y1: y(0), y2: y(0), stroke: COLOURS.axis }));
  return svg;
}
