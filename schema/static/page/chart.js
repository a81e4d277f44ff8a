// A line chart as inline SVG: values over dates, with horizontal lines for target and
// pass threshold. Hand-written (about a hundred lines) rather than a charting library:
// one kind of chart, no dependency to vendor, text stays selectable and prints.

import { h } from "./dom.js";
import { num, date } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const W = 640;
const H = 260;
const PAD = { left: 56, right: 16, top: 16, bottom: 28 };

function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
  for (const child of children) element.append(child);
  return element;
}

/** points: [{date: "YYYY-MM-DD", value}], lines: [{value, class, label}] */
export function lineChart(points, lines = [], title = "", { width = W, height = H } = {}) {
  if (!points.length) return h("p.empty", "—");
  const times = points.map((p) => Date.parse(p.date));
  const values = [...points.map((p) => p.value), ...lines.map((l) => l.value)].filter(
    (v) => v != null
  );
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) [low, high] = [low - 1, high + 1];
  const margin = (high - low) * 0.08;
  low -= margin;
  high += margin;
  const t0 = Math.min(...times);
  const t1 = Math.max(...times) === t0 ? t0 + 86400000 : Math.max(...times);
  const x = (time) => PAD.left + ((time - t0) / (t1 - t0)) * (width - PAD.left - PAD.right);
  const y = (value) => PAD.top + (1 - (value - low) / (high - low)) * (height - PAD.top - PAD.bottom);

  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-label": title,
  });
  if (title) chart.append(svg("title", {}, title));
  for (let i = 0; i <= 4; i += 1) {
    const value = low + ((high - low) * i) / 4;
    chart.append(
      svg("line", { x1: PAD.left, x2: width - PAD.right, y1: y(value), y2: y(value), class: "grid" }),
      svg("text", { x: PAD.left - 6, y: y(value) + 4, class: "axis", "text-anchor": "end" }, num(value, 1))
    );
  }
  for (const [time, anchor] of [[t0, "start"], [t1, "end"]]) {
    chart.append(
      svg("text", { x: x(time), y: height - 8, class: "axis", "text-anchor": anchor }, date(time))
    );
  }
  for (const line of lines) {
    if (line.value == null) continue;
    chart.append(
      svg("line", { x1: PAD.left, x2: width - PAD.right, y1: y(line.value), y2: y(line.value), class: `rule ${line.class}` }),
      svg("text", { x: width - PAD.right, y: y(line.value) - 4, class: `rule-label ${line.class}`, "text-anchor": "end" },
        `${line.label} ${num(line.value)}`)
    );
  }
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(times[i]).toFixed(1)},${y(p.value).toFixed(1)}`);
  chart.append(svg("path", { d: path.join(" "), class: "series" }));
  const last = points[points.length - 1];
  chart.append(
    svg("circle", { cx: x(times[times.length - 1]), cy: y(last.value), r: 4, class: "last" },
      svg("title", {}, `${last.date}: ${num(last.value)}`))
  );
  return h("figure.chart-box", chart);
}
