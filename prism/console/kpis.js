// The dashboard KPIs: their series over an hour, a day or a week, the tiles with their sparklines, and the chart.

import { get, withQuery } from "./api.js";
import { lineChart, sparkline } from "./charts.js";
import { duration, el, formatValue, unitOf } from "./format.js";

// Names a person reads, and which way is good news (+1 up, -1 down); the KPI list itself is the API's.
const KPI_LABELS = {
  totalMrr: ["Monthly recurring revenue", 1],
  averageMargin: ["Average margin", 1],
  atRiskClients: ["At-risk clients", -1],
  licenseUtilization: ["License utilisation", 1],
  pipelineValue: ["Pipeline value", 1],
  weightedPipelineValue: ["Weighted pipeline", 1],
  technicianUtilization: ["Technician utilisation", 1],
  departmentSpend: ["Department spend, month", -1],
  vendorSpend: ["Vendor spend, 12 months", -1],
  activeContracts: ["Active contracts", 1],
};

const HOUR = 3600e3;
const RANGES = { hour: { span: HOUR, points: 60 }, day: { span: 24 * HOUR, points: 288 }, week: { span: 168 * HOUR, points: 336 } };
// The newest points are kept at every tick; older ones thin out to the range's grid.
const FINE_POINTS = 120;

/** The KPIs as the API's history point schema lists them, with their units, names and good direction. */
export function kpisOf(pointSchema) {
  return Object.keys(pointSchema)
    .filter((name) => name !== "tick" && name !== "time")
    .map((name) => ({
      name,
      unit: unitOf(pointSchema[name]),
      description: pointSchema[name].description || "",
      label: KPI_LABELS[name]?.[0] || name,
      good: KPI_LABELS[name]?.[1] || 1,
    }));
}

/** A KPI series over one range: the API's points on a grid, and every tick's point since the page opened. */
export class Series {
  constructor(range, interval) {
    this.span = RANGES[range].span;
    this.step = Math.max(interval, Math.round(RANGES[range].span / 1000 / RANGES[range].points));
    this.stride = Math.max(1, Math.round(this.step / interval));
    this.points = [];
  }

  /** The range's points up to `time` (the served tick's time, not this browser's clock). */
  async load(time) {
    const from = new Date(Date.parse(time) - this.span).toISOString();
    const { data } = await get(withQuery("/api/history", [["from", from], ["step", `${this.step}s`]]));
    this.points = [];
    this.merge(data.points);
  }

  merge(rows) {
    const lastTick = this.points.at(-1)?.tick ?? -Infinity;
    for (const row of rows) if (row.tick > lastTick) this.points.push({ ...row, t: Date.parse(row.time) });
    const latest = this.points.at(-1)?.t ?? 0;
    const fine = this.points.length - FINE_POINTS;
    this.points = this.points.filter((p, i) => p.t >= latest - this.span && (i >= fine || p.tick % this.stride === 0));
  }

  values(kpi) {
    return this.points.map((p) => ({ t: p.t, v: p[kpi] }));
  }
}

/** Every tick's KPIs since the newest point the hour holds, added to each range's series. */
export async function catchUp(seriesByRange) {
  const hour = seriesByRange.hour;
  if (!hour || !hour.points.length) return;
  const { data } = await get(withQuery("/api/history", [["from", hour.points.at(-1).time]]));
  for (const series of Object.values(seriesByRange)) series.merge(data.points);
}

/** One tile per KPI; a click on one calls `onChoose(name)`. */
export function buildTiles(box, kpis, chosen, onChoose) {
  box.replaceChildren(
    ...kpis.map((kpi) =>
      el(
        "button",
        { type: "button", class: "tile", "data-kpi": kpi.name, title: kpi.description, "aria-pressed": String(kpi.name === chosen), onclick: () => onChoose(kpi.name) },
        el("span", { class: "label", text: kpi.label }),
        el("span", { class: "value", text: "–" }),
        el("span", { class: "delta" }),
        el("span", { class: "spark-slot" }),
      ),
    ),
  );
}

/** How far a KPI moved over the hour: counts by items, rates by percentage points, money by a share of itself. */
function describeChange(kpi, first, last) {
  const change = last - first;
  if (change === 0) return ["no change in 1 h", "flat"];
  const relative = first ? (change / Math.abs(first)) * 100 : 0;
  const shown = { count: String(Math.abs(change)), percent: `${Math.abs(change).toFixed(2)} pt` }[kpi.unit] ?? `${Math.abs(relative).toFixed(2)}%`;
  return [`${change > 0 ? "▲" : "▼"} ${shown} in 1 h`, Math.sign(change) === kpi.good ? "good" : "bad"];
}

/** Each tile's value (also as data-value), its change over the hour and its sparkline. */
export function renderTiles(box, kpis, hour) {
  for (const kpi of kpis) {
    const tile = box.querySelector(`.tile[data-kpi="${kpi.name}"]`);
    const points = hour.values(kpi.name);
    if (!tile || !points.length) continue;
    const [first, last] = [points[0].v, points.at(-1).v];
    tile.dataset.value = String(last);
    const value = tile.querySelector(".value");
    value.textContent = formatValue(last, kpi.unit, { compact: kpi.unit === "money" });
    value.title = formatValue(last, kpi.unit);
    const delta = tile.querySelector(".delta");
    [delta.textContent, delta.dataset.tone] = describeChange(kpi, first, last);
    tile.querySelector(".spark-slot").replaceChildren(sparkline(points));
  }
}

/** The large chart of one KPI over a range, the scenario runs shaded, and a line saying where it comes from. */
export function drawChart({ chart, note, series, kpi, range, runs, now }) {
  const bands = runs.map((run) => ({ from: Date.parse(run.startsAt), to: Math.min(Date.parse(run.endsAt), now), label: run.name }));
  lineChart(chart, series.values(kpi.name), { unit: kpi.unit, bands, label: `${kpi.label}, last ${range}` });
  note.textContent = `${kpi.description} ${series.points.length} points from /api/history, one every ${duration(series.step)}, and every tick since the page opened. Shaded: scenario runs.`;
}
