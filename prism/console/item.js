// One item in a side panel: its JSON, a chart of any of its numbers over the last hour, and what changed when.

import { get, withQuery } from "./api.js";
import { lineChart } from "./charts.js";
import { clockTime, el, formatValue, unitOf } from "./format.js";

const NUMERIC = new Set(["number", "integer"]);

function changesBetween(before, after) {
  return Object.keys(after).filter((field) => field !== "lastUpdated" && JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}

function shortValue(value) {
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

export class ItemPanel {
  constructor({ schemas, onError }) {
    this.schemas = schemas;
    this.onError = onError;
    this.dialog = document.getElementById("item");
    this.points = [];
    document.getElementById("item-close").addEventListener("click", () => this.dialog.close());
    document.getElementById("item-field").addEventListener("change", () => {
      this.fieldChosen = true;
      this.drawChart();
    });
    this.dialog.addEventListener("click", (event) => event.target === this.dialog && this.dialog.close());
  }

  get isOpen() {
    return this.dialog.open;
  }

  async open(kind, id, { interval }) {
    this.kind = kind;
    this.id = id;
    this.interval = interval;
    document.getElementById("item-title").textContent = id;
    document.getElementById("item-note").textContent = "loading…";
    if (!this.dialog.open) this.dialog.showModal();
    const properties = this.schemas[kind] || {};
    const numeric = Object.entries(properties).filter(([, p]) => NUMERIC.has(p.type)).map(([name]) => name);
    const select = document.getElementById("item-field");
    select.replaceChildren(...numeric.map((name) => el("option", { value: name, text: name })));
    this.fieldChosen = false;
    await this.refresh();
  }

  /** Load the item and its last hour again (the panel follows the ticks that change it). */
  async refresh() {
    const { kind, id } = this;
    // About 120 points over the hour: every tick at 30 s, a point every 30 s for faster ticks.
    const step = `${Math.max(this.interval, 30)}s`;
    try {
      const [item, history] = await Promise.all([get(`/api/${kind}/${id}`), get(withQuery(`/api/${kind}/${id}/history`, [["step", step]]))]);
      if (kind !== this.kind || id !== this.id) return;
      this.item = item.data;
      this.points = history.data.points;
    } catch (error) {
      document.getElementById("item-note").textContent = error.status === 404 ? `${id} is no longer in the list (a closed lead or a churned client leaves it).` : error.message;
      if (error.status !== 404) this.onError(error);
      return;
    }
    const name = this.item.name || this.item.companyName || this.item.product || this.item.vendorName || "";
    document.getElementById("item-title").textContent = `${id}${name ? ` · ${name}` : ""}`;
    document.getElementById("item-note").textContent = `last updated ${this.item.lastUpdated}`;
    document.getElementById("item-json").textContent = JSON.stringify(this.item, null, 2);
    if (!this.fieldChosen) this.chooseLiveliestField();
    this.drawChart();
    this.listChanges();
  }

  /** Show first the number that moved most often in the hour: the one worth a chart. */
  chooseLiveliestField() {
    const select = document.getElementById("item-field");
    const moves = (field) => this.points.filter((p, i) => i && p.item[field] !== this.points[i - 1].item[field]).length;
    let best = select.value;
    for (const option of select.options) if (moves(option.value) > moves(best)) best = option.value;
    select.value = best;
  }

  drawChart() {
    const field = document.getElementById("item-field").value;
    const points = this.points.map((p) => ({ t: Date.parse(p.time), v: p.item[field] }));
    lineChart(document.getElementById("item-chart"), points, { unit: unitOf(this.schemas[this.kind]?.[field]), label: field });
  }

  listChanges() {
    const rows = [];
    for (let i = this.points.length - 1; i > 0 && rows.length < 40; i -= 1) {
      const [before, after] = [this.points[i - 1].item, this.points[i].item];
      for (const field of changesBetween(before, after)) {
        const unit = unitOf(this.schemas[this.kind]?.[field]);
        const show = (v) => (typeof v === "number" ? formatValue(v, unit) : shortValue(v));
        rows.push(
          el("li", {}, el("time", { text: clockTime(this.points[i].time) }), el("code", { text: field }), el("span", { class: "from", text: show(before[field]) }), el("span", { text: "→" }), el("span", { class: "to", text: show(after[field]) })),
        );
      }
    }
    if (!rows.length) rows.push(el("li", { class: "hint", text: "No change in the last hour." }));
    document.getElementById("item-changes").replaceChildren(...rows);
  }
}
