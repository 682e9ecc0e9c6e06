// Inline SVG charts: a tile's sparkline and the larger line chart with axes, scenario bands and a hover readout.

import { clockTime, formatValue } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

function extent(values) {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) {
    const pad = Math.abs(low) * 0.01 || 1;
    low -= pad;
    high += pad;
  }
  return [low, high];
}

function pathOf(points, x, y) {
  return points.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
}

/** A sparkline of points [{t, v}] (t in ms), stretched to its box. */
export function sparkline(points) {
  const width = 120;
  const height = 32;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", class: "spark" });
  if (points.length < 2) return root;
  const [t0, t1] = [points[0].t, points.at(-1).t];
  const [low, high] = extent(points.map((p) => p.v));
  const x = (t) => ((t - t0) / (t1 - t0 || 1)) * width;
  const y = (v) => height - 2 - ((v - low) / (high - low)) * (height - 4);
  const line = pathOf(points, x, y);
  root.append(
    svg("path", { d: `${line}L${width},${height}L0,${height}Z`, class: "spark-area" }),
    svg("path", { d: line, class: "spark-line", "vector-effect": "non-scaling-stroke" }),
  );
  return root;
}

/** About `count` round numbers spanning [low, high]; whole numbers only for a count. */
function niceTicks(low, high, { count = 4, whole = false } = {}) {
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
  if (whole) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(v + 0); // no -0
  return ticks;
}

/** An axis label with as many decimals as its step needs, so that neighbours never read the same. */
function axisLabel(value, unit, step) {
  const decimals = (size) => Math.min(3, Math.max(0, Math.ceil(-Math.log10(step / size) - 1e-9)));
  if (unit === "money") {
    const [size, suffix] = [[1e9, "B"], [1e6, "M"], [1e3, "K"]].find(([s]) => Math.abs(value) >= s || step >= s) || [1, ""];
    return `$${(value / size).toFixed(decimals(size))}${suffix}`;
  }
  if (unit === "percent") return `${value.toFixed(decimals(1))}%`;
  if (unit === "count") return formatValue(value, unit);
  return value.toFixed(decimals(1));
}

function timeLabel(t, span) {
  const iso = new Date(t).toISOString();
  if (span > 2 * 86400e3) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return span > 3 * 3600e3 ? iso.slice(11, 16) : clockTime(iso).slice(0, span > 600e3 ? 5 : 8);
}

/**
 * Draw a line chart of points [{t, v}] into `container` at its current size: axes, grid, the scenario runs as
 * shaded bands [{from, to, label}], and a crosshair readout under the pointer.
 */
export function lineChart(container, points, { unit, bands = [], label = "" } = {}) {
  container.replaceChildren();
  const width = Math.max(container.clientWidth, 240);
  const height = Math.max(container.clientHeight, 160);
  const margin = { top: 12, right: 16, bottom: 26, left: 64 };
  const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "line-chart", role: "img" });
  root.setAttribute("aria-label", label);
  container.append(root);
  if (points.length < 2) {
    root.append(Object.assign(svg("text", { x: width / 2, y: height / 2, class: "empty" }), { textContent: "waiting for data…" }));
    return;
  }
  const [t0, t1] = [points[0].t, points.at(-1).t];
  const [rawLow, rawHigh] = extent(points.map((p) => p.v));
  const pad = (rawHigh - rawLow) * 0.08;
  const [low, high] = [rawLow - pad, rawHigh + pad];
  const innerWidth = width - margin.left - margin.right;
  const innerHeight = height - margin.top - margin.bottom;
  const x = (t) => margin.left + ((t - t0) / (t1 - t0 || 1)) * innerWidth;
  const y = (v) => margin.top + innerHeight - ((v - low) / (high - low)) * innerHeight;

  bands.forEach((band, index) => {
    const from = Math.max(band.from, t0);
    const to = Math.min(band.to, t1);
    if (to <= from) return;
    const rect = svg("rect", { x: x(from), y: margin.top, width: x(to) - x(from), height: innerHeight, class: "band" });
    const title = svg("title");
    title.textContent = band.label;
    rect.append(title);
    root.append(rect);
    // Labels stack, one line per run, and sit left of a band too narrow or too near the right edge.
    const inside = x(from) + 4 + 7 * band.label.length < width - margin.right;
    const text = svg("text", { x: inside ? x(from) + 4 : x(from) - 4, y: margin.top + 12 + 13 * index, class: "band-label", "text-anchor": inside ? "start" : "end" });
    text.textContent = band.label;
    root.append(text);
  });
  const ticks = niceTicks(low, high, { whole: unit === "count" });
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  for (const v of ticks) {
    root.append(svg("line", { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v), class: "grid" }));
    const text = svg("text", { x: margin.left - 8, y: y(v) + 4, class: "axis y" });
    text.textContent = axisLabel(v, unit, step);
    root.append(text);
  }
  const span = t1 - t0;
  for (let i = 0; i <= 5; i += 1) {
    const t = t0 + (span * i) / 5;
    const text = svg("text", { x: x(t), y: height - 8, class: `axis x${i === 0 ? " first" : i === 5 ? " last" : ""}` });
    text.textContent = timeLabel(t, span);
    root.append(text);
  }
  const line = pathOf(points, x, y);
  const bottom = margin.top + innerHeight;
  root.append(
    svg("path", { d: `${line}L${x(t1)},${bottom}L${x(t0)},${bottom}Z`, class: "area" }),
    svg("path", { d: line, class: "line" }),
  );
  const last = points.at(-1);
  root.append(svg("circle", { cx: x(last.t), cy: y(last.v), r: 3.5, class: "last" }));
  addReadout(root, points, { x, y, unit, top: margin.top, bottom });
}

function addReadout(root, points, { x, y, unit, top, bottom }) {
  const cross = svg("line", { y1: top, y2: bottom, class: "cross", visibility: "hidden" });
  const dot = svg("circle", { r: 4, class: "hover", visibility: "hidden" });
  const text = svg("text", { class: "readout", visibility: "hidden" });
  root.append(cross, dot, text);
  root.addEventListener("pointermove", (event) => {
    const box = root.getBoundingClientRect();
    const px = event.clientX - box.left;
    let nearest = points[0];
    for (const p of points) if (Math.abs(x(p.t) - px) < Math.abs(x(nearest.t) - px)) nearest = p;
    const [cx, cy] = [x(nearest.t), y(nearest.v)];
    for (const node of [cross, dot, text]) node.setAttribute("visibility", "visible");
    cross.setAttribute("x1", cx);
    cross.setAttribute("x2", cx);
    dot.setAttribute("cx", cx);
    dot.setAttribute("cy", cy);
    const when = new Date(nearest.t).toISOString();
    text.textContent = `${formatValue(nearest.v, unit)} · ${when.slice(5, 10)} ${clockTime(when)}`;
    const right = cx > box.width * 0.6;
    text.setAttribute("x", right ? cx - 8 : cx + 8);
    text.setAttribute("y", Math.max(top + 14, cy - 10));
    text.setAttribute("text-anchor", right ? "end" : "start");
  });
  root.addEventListener("pointerleave", () => {
    for (const node of [cross, dot, text]) node.setAttribute("visibility", "hidden");
  });
}
