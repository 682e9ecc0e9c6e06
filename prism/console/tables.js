// The seven lists as one table: paging, sorting and the equality filters of the API, the rows that changed on
// the last tick highlighted, a click on a row opening the item.

import { get, withQuery } from "./api.js";
import { el, formatValue, unitOf } from "./format.js";

export const KINDS = ["clients", "licenses", "leads", "technicians", "departments", "vendors", "contracts"];

// Which fields a person wants to see first; every scalar field can still be filtered on.
const COLUMNS = {
  clients: ["id", "name", "industry", "contractType", "status", "churnRisk", "monthlyRevenue", "marginPercentage", "contractEndDate"],
  licenses: ["id", "vendor", "product", "licenseType", "totalLicenses", "usedLicenses", "utilizationRate", "complianceStatus", "totalCost", "renewalDate"],
  leads: ["id", "companyName", "contactName", "stage", "value", "probability", "source", "expectedCloseDate"],
  technicians: ["id", "name", "role", "skillLevel", "status", "utilization", "billableHours", "hourlyRate", "activeProjects"],
  departments: ["id", "name", "manager", "budget", "spent", "actualSpend", "variancePercentage", "trend"],
  vendors: ["id", "name", "category", "status", "performanceScore", "totalSpend", "contractEnd"],
  contracts: ["id", "vendorName", "type", "value", "status", "renewalStatus", "slaCompliance", "endDate", "autoRenew"],
};

const SCALAR_TYPES = new Set(["string", "number", "integer", "boolean"]);

// Words that are good or bad news, so a status reads at a glance.
const TONES = {
  "At Risk": "bad", High: "bad", "Over-allocated": "bad", expired: "bad", Expired: "bad", "Closed Lost": "bad",
  Medium: "warn", "expiring-soon": "warn", "Expiring Soon": "warn", "under-review": "warn", expiring: "warn", Busy: "warn",
  Active: "good", active: "good", Low: "good", Compliant: "good", "Closed Won": "good", Available: "good",
};

function label(field) {
  return field.replace(/([A-Z])/g, " $1").replace(/^./, (c) => c.toUpperCase()).replace(/\bId\b/, "ID");
}

export class EntityTable {
  /** `schemas`: kind → the item schema's properties (from /openapi.json); `onOpen(kind, id)` opens an item. */
  constructor({ schemas, onOpen, onError }) {
    this.schemas = schemas;
    this.onOpen = onOpen;
    this.onError = onError;
    this.kind = "clients";
    this.filters = [];
    this.sort = null;
    this.order = "asc";
    this.limit = 20;
    this.offset = 0;
    this.changed = new Set();
    this.loading = null;
    this.table = document.getElementById("table");
    this.table.dataset.kind = this.kind;
    this.bindControls();
    this.renderTabs({});
    this.setKind("clients");
  }

  bindControls() {
    document.getElementById("filter-field").addEventListener("change", () => this.renderValueInput());
    document.getElementById("filter-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const field = document.getElementById("filter-field").value;
      const value = document.getElementById("filter-value").value.trim();
      if (!field || value === "") return;
      this.filters.push([field, value]);
      this.offset = 0;
      this.renderChips();
      this.load();
    });
    document.getElementById("page-size").addEventListener("change", (event) => {
      this.limit = Number(event.target.value);
      this.offset = 0;
      this.load();
    });
    document.getElementById("page-prev").addEventListener("click", () => this.page(-1));
    document.getElementById("page-next").addEventListener("click", () => this.page(1));
  }

  /** The scalar fields of the current kind, with their schema properties. */
  fields() {
    const properties = this.schemas[this.kind] || {};
    return Object.entries(properties).filter(([, p]) => SCALAR_TYPES.has(p.type));
  }

  renderTabs(counts) {
    const tabs = document.getElementById("tabs");
    tabs.replaceChildren(
      ...KINDS.map((kind) =>
        el(
          "button",
          { type: "button", role: "tab", "data-kind": kind, "aria-selected": String(kind === this.kind), onclick: () => this.setKind(kind) },
          el("span", { text: label(kind) }),
          el("span", { class: "count", text: counts[kind] ?? "" }),
        ),
      ),
    );
  }

  setCounts(counts) {
    for (const tab of document.querySelectorAll("#tabs [data-kind]")) {
      tab.querySelector(".count").textContent = counts[tab.dataset.kind] ?? "";
    }
  }

  setKind(kind) {
    this.kind = kind;
    this.table.dataset.kind = kind;
    this.filters = [];
    this.sort = null;
    this.order = "asc";
    this.offset = 0;
    this.changed = new Set();
    for (const tab of document.querySelectorAll("#tabs [data-kind]")) {
      tab.setAttribute("aria-selected", String(tab.dataset.kind === kind));
    }
    const select = document.getElementById("filter-field");
    select.replaceChildren(...this.fields().map(([name]) => el("option", { value: name, text: label(name) })));
    this.renderValueInput();
    this.renderChips();
    this.renderHead();
    this.load();
  }

  renderValueInput() {
    const name = document.getElementById("filter-field").value;
    const property = (this.schemas[this.kind] || {})[name] || {};
    const words = property.enum || (property.type === "boolean" ? ["true", "false"] : null);
    const input = words
      ? el("select", { id: "filter-value", "aria-label": "Filter value" }, ...words.map((w) => el("option", { value: w, text: w })))
      : el("input", { id: "filter-value", "aria-label": "Filter value", placeholder: property.type === "string" ? "exact value" : "number" });
    document.getElementById("filter-value-slot").replaceChildren(input);
  }

  renderChips() {
    const chips = this.filters.map(([field, value], index) =>
      el(
        "span",
        { class: "chip" },
        el("span", { text: `${label(field)} = ${value}` }),
        el("button", {
          type: "button",
          class: "icon",
          "aria-label": `Remove filter ${field}`,
          text: "✕",
          onclick: () => {
            this.filters.splice(index, 1);
            this.offset = 0;
            this.renderChips();
            this.load();
          },
        }),
      ),
    );
    document.getElementById("filter-chips").replaceChildren(...chips);
  }

  renderHead() {
    const properties = this.schemas[this.kind] || {};
    const cells = COLUMNS[this.kind].map((field) => {
      const sorted = this.sort === field;
      const arrow = sorted ? (this.order === "asc" ? "▲" : "▼") : "";
      const unit = unitOf(properties[field]);
      return el(
        "th",
        { "data-field": field, class: ["money", "percent", "count", "number"].includes(unit) ? "num" : "", "aria-sort": sorted ? (this.order === "asc" ? "ascending" : "descending") : "none", title: properties[field]?.description || "" },
        el("button", { type: "button", onclick: () => this.toggleSort(field) }, el("span", { text: label(field) }), el("span", { class: "arrow", text: arrow })),
      );
    });
    this.table.tHead.replaceChildren(el("tr", {}, ...cells));
  }

  /** Ascending, then descending, then the API's own order. */
  toggleSort(field) {
    if (this.sort !== field) [this.sort, this.order] = [field, "asc"];
    else if (this.order === "asc") this.order = "desc";
    else this.sort = null;
    this.offset = 0;
    this.renderHead();
    this.load();
  }

  page(direction) {
    const next = this.offset + direction * this.limit;
    if (next < 0 || next >= (this.total ?? 0)) return;
    this.offset = next;
    this.load();
  }

  /** The list query as the API takes it. */
  query() {
    const params = [...this.filters];
    if (this.sort) params.push(["sort", this.sort], ["order", this.order]);
    params.push(["limit", this.limit], ["offset", this.offset]);
    return withQuery(`/api/${this.kind}`, params);
  }

  async load() {
    const path = this.query();
    this.loading = path;
    let answer;
    try {
      answer = await get(path);
    } catch (error) {
      if (this.loading === path) this.showStatus(`could not load: ${error.message}`);
      this.onError(error);
      return;
    }
    if (this.loading !== path) return; // a newer query was sent meanwhile
    this.total = Number(answer.response.headers.get("X-Total-Count") ?? answer.data.length);
    this.renderRows(answer.data, Number(answer.response.headers.get("X-Tick")), path);
  }

  /** Show a page of rows; the table's data-tick and data-query say which answer it shows. */
  renderRows(rows, tick, path) {
    const properties = this.schemas[this.kind] || {};
    const body = rows.map((item) => {
      const cells = COLUMNS[this.kind].map((field) => {
        const unit = unitOf(properties[field]);
        const value = item[field];
        const text = typeof value === "boolean" ? (value ? "yes" : "no") : formatValue(value, unit);
        const tone = TONES[value];
        const content = properties[field]?.enum ? el("span", { class: `pill ${tone || ""}`, text }) : text;
        return el("td", { class: ["money", "percent", "count", "number"].includes(unit) ? "num" : "" }, content);
      });
      return el("tr", { "data-id": item.id, class: this.changed.has(item.id) ? "changed" : "", tabindex: "0", onclick: () => this.onOpen(this.kind, item.id), onkeydown: (e) => e.key === "Enter" && this.onOpen(this.kind, item.id) }, ...cells);
    });
    if (!body.length) body.push(el("tr", { class: "empty" }, el("td", { colspan: COLUMNS[this.kind].length, text: "No items match these filters." })));
    this.table.tBodies[0].replaceChildren(...body);
    this.table.dataset.tick = String(tick);
    this.table.dataset.query = path;
    const first = this.total ? this.offset + 1 : 0;
    const last = Math.min(this.offset + this.limit, this.total);
    document.getElementById("page-info").textContent = `${first}–${last} of ${this.total}`;
    document.getElementById("page-prev").disabled = this.offset === 0;
    document.getElementById("page-next").disabled = last >= this.total;
    const changedHere = rows.filter((item) => this.changed.has(item.id)).length;
    this.showStatus(`tick ${tick}${changedHere ? ` · ${changedHere} changed on the last tick` : ""}`);
  }

  showStatus(text) {
    document.getElementById("table-status").textContent = text;
  }

  /** A tick: remember what changed, flag the tabs, and reload the page of rows when this list moved. */
  onTick({ changed }) {
    for (const tab of document.querySelectorAll("#tabs [data-kind]")) {
      tab.classList.toggle("moved", (changed[tab.dataset.kind] || []).length > 0);
    }
    this.changed = new Set(changed[this.kind] || []);
    if (!document.getElementById("follow").checked) return;
    if (this.changed.size) this.load();
    else for (const row of this.table.tBodies[0].rows) row.classList.remove("changed"); // nothing moved this tick
  }
}
