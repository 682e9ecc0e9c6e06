// The console's entry point: the tick clock on the change feed, the scenarios, the management buttons and the
// reports, and the wiring of the rest (KPIs in kpis.js, the lists in tables.js, one item in item.js).
// Everything it shows comes from the public API; every failure becomes a message on the page (messages.js).

import { get, request, setApiKey, withQuery } from "./api.js";
import { clockTime, dateTime, duration, el } from "./format.js";
import { ItemPanel } from "./item.js";
import { buildTiles, catchUp, drawChart, kpisOf, renderTiles, Series } from "./kpis.js";
import { attempt, busy, coalesced, notify, reportError, setFeedLive } from "./messages.js";
import { EntityTable } from "./tables.js";

const state = {
  schemas: {},
  kpis: [],
  stats: null,
  tick: null,
  time: null,
  interval: 30,
  lastTickAt: performance.now(),
  nextTickIn: null,
  scenarios: { available: {}, runs: [] },
  series: {},
  chartKpi: "totalMrr",
  chartRange: "hour",
  live: false,
};

// --- the schema ----------------------------------------------------------------------------------------

/** Field types, vocabularies and units of every list, the KPIs, and the scenario and report words. */
async function loadSchema() {
  const { data } = await get("/openapi.json");
  const components = data.components.schemas;
  const resolve = (schema) => components[schema.$ref.split("/").at(-1)];
  for (const kind of ["clients", "licenses", "leads", "technicians", "departments", "vendors", "contracts"]) {
    const list = data.paths[`/api/${kind}`].get.responses["200"].content["application/json"].schema;
    state.schemas[kind] = resolve(list.items).properties;
  }
  state.kpis = kpisOf(components.HistoryPoint.properties);
  state.scenarioRequest = components.ScenarioRequest.properties;
  state.pageTypes = components.ReportRequest.properties.pageType.enum || [];
}

// --- the clock and the change feed ---------------------------------------------------------------------

function renderClock() {
  document.getElementById("clock-tick").textContent = state.tick ?? "–";
  const time = document.getElementById("clock-time");
  time.textContent = state.time ? `${clockTime(state.time)} UTC` : "–";
  time.title = state.time || "";
  if (state.stats) {
    document.getElementById("clock-interval").textContent = `${state.interval} s`;
    const seed = document.getElementById("clock-seed");
    seed.textContent = state.stats.seed;
    seed.title = `generation started ${state.stats.generation_started_at}, epoch ${state.stats.epoch}`;
  }
}

function renderCountdown() {
  const next = document.getElementById("clock-next");
  const bar = document.getElementById("clock-bar");
  if (!state.live || state.tick === null) {
    next.textContent = "–";
    bar.style.width = "0";
    return;
  }
  const elapsed = (performance.now() - state.lastTickAt) / 1000;
  const wait = state.nextTickIn ?? state.interval;
  const left = Math.max(0, wait - elapsed);
  next.textContent = left > 0 ? `in ${duration(left)}` : "due";
  bar.style.width = `${Math.min(100, ((state.interval - left) / state.interval) * 100)}%`;
}

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Connection lost · reconnecting…",
  lost: "Connection lost · retrying…",
};

function setConnection(name, detail = "") {
  const wasLive = state.live;
  state.live = name === "live";
  setFeedLive(state.live);
  const box = document.getElementById("connection");
  box.dataset.state = name;
  document.getElementById("connection-text").textContent = CONNECTION_TEXT[name] + detail;
  document.body.classList.toggle("offline", !state.live && name !== "connecting");
  const banner = document.getElementById("banner");
  banner.hidden = state.live || name === "connecting";
  banner.textContent = `The service does not answer: reconnecting${detail}. The figures shown are those of tick ${state.tick ?? "–"}; they catch up when it is back.`;
  if (!wasLive && state.live) reloadAll();
}

/** Follow /api/events; the browser reconnects by itself, and when it gives up the console starts it again. */
function follow() {
  let attempts = 0;
  let source = null;
  const open = () => {
    source = new EventSource("/api/events");
    source.addEventListener("open", () => {
      attempts = 0;
      setConnection("live");
    });
    source.addEventListener("error", () => {
      attempts += 1;
      if (source.readyState === EventSource.CLOSED) {
        const wait = Math.min(10, 2 ** Math.min(attempts, 4));
        setConnection("lost", ` in ${wait} s`);
        setTimeout(open, wait * 1000);
      } else {
        setConnection("reconnecting", attempts > 1 ? ` (attempt ${attempts})` : "");
      }
    });
    source.addEventListener("tick", (event) => onTick(JSON.parse(event.data)));
    for (const kind of ["regenerate", "resync"]) source.addEventListener(kind, () => reloadAll());
    source.addEventListener("scenario", () => refreshScenarios());
  };
  open();
}

let table;
let itemPanel;

function onTick(event) {
  if (event.tick <= (state.tick ?? -Infinity) && state.time === event.time) return;
  state.tick = event.tick;
  state.time = event.time;
  state.lastTickAt = performance.now();
  state.nextTickIn = null;
  renderClock();
  renderRuns();
  if (document.hidden) {
    state.behind = true; // nothing is fetched for a tab nobody looks at
    return;
  }
  refreshKpis();
  refreshStats();
  table.onTick(event);
  if (itemPanel.isOpen && (event.changed[itemPanel.kind] || []).includes(itemPanel.id)) attempt(() => itemPanel.refresh());
}

/** A seed is a 64-bit integer: JSON.parse would round it, so it is read as the service wrote it. */
function exactSeed(text, parsed) {
  return /"seed":\s*(\d+)/.exec(text)?.[1] ?? String(parsed);
}

const refreshStats = coalesced(async () => {
  const { data, text } = await get("/api/stats");
  data.seed = exactSeed(text, data.seed);
  const newGeneration = state.stats !== null && state.stats.seed !== data.seed;
  state.stats = data;
  state.interval = data.update_interval;
  if (state.tick === null || data.tick > state.tick || newGeneration) {
    state.tick = data.tick;
    state.time = data.last_tick_at;
  }
  if (state.nextTickIn === null) {
    state.nextTickIn = Math.max(0, (Date.parse(data.next_tick_at) - Date.parse(data.timestamp)) / 1000);
    state.lastTickAt = performance.now();
  }
  renderClock();
  renderDynamoDB(data.dynamodb);
  table.setCounts(data.counts);
});

// --- KPIs: tiles and chart -----------------------------------------------------------------------------

async function loadSeries(range) {
  const series = new Series(range, state.interval);
  await series.load(state.time);
  state.series[range] = series;
  return series;
}

const refreshKpis = coalesced(async () => {
  if (!state.series.hour) return;
  await catchUp(state.series);
  renderTiles(document.getElementById("kpis"), state.kpis, state.series.hour);
  renderChart();
});

function chooseKpi(name) {
  state.chartKpi = name;
  document.getElementById("chart-kpi").value = name;
  for (const tile of document.querySelectorAll(".tile")) tile.setAttribute("aria-pressed", String(tile.dataset.kpi === name));
  renderChart();
}

async function chooseRange(range) {
  state.chartRange = range;
  for (const button of document.querySelectorAll("#chart-range button")) button.setAttribute("aria-pressed", String(button.dataset.range === range));
  if (!state.series[range]) {
    document.getElementById("chart").replaceChildren(el("p", { class: "loading", text: `Loading the last ${range} from /api/history…` }));
    document.getElementById("chart-note").textContent = "";
    await attempt(() => loadSeries(range));
    if (state.chartRange !== range) return;
  }
  renderChart();
}

function renderChart() {
  const series = state.series[state.chartRange];
  const kpi = state.kpis.find((k) => k.name === state.chartKpi);
  if (!series || !kpi) return;
  drawChart({
    chart: document.getElementById("chart"),
    note: document.getElementById("chart-note"),
    series,
    kpi,
    range: state.chartRange,
    runs: state.scenarios.runs,
    now: Date.parse(state.time),
  });
}

// --- scenarios -----------------------------------------------------------------------------------------

async function loadScenarioForm() {
  const select = document.getElementById("scenario-name");
  select.replaceChildren(...Object.keys(state.scenarios.available).map((name) => el("option", { value: name, text: name })));
  const duration = document.getElementById("scenario-duration");
  const limits = state.scenarioRequest?.durationTicks || {};
  if (limits.minimum) duration.min = limits.minimum;
  if (limits.maximum) duration.max = limits.maximum;
  if (limits.default) duration.value = limits.default;
  select.addEventListener("change", describeScenario);
  describeScenario();
}

async function describeScenario() {
  const name = document.getElementById("scenario-name").value;
  document.getElementById("scenario-description").textContent = state.scenarios.available[name] || "";
  const outage = name === "vendor-outage";
  document.getElementById("scenario-vendor-label").hidden = !outage;
  if (!outage) return;
  const { data } = (await attempt(() => get(withQuery("/api/vendors", [["sort", "name"]])))) || { data: [] };
  const vendors = data.map((vendor) => el("option", { value: vendor.id, text: `${vendor.name} (${vendor.id})` }));
  document.getElementById("scenario-vendor").replaceChildren(el("option", { value: "", text: "chosen by the simulation" }), ...vendors);
}

const refreshScenarios = coalesced(async () => {
  const { data } = await get("/api/scenarios");
  state.scenarios = data;
  renderRuns();
  renderChart();
});

function runState(run) {
  const tick = state.tick ?? 0;
  if (tick < run.startTick) return ["scheduled", `starts in ${run.startTick - tick} ticks`];
  if (tick < run.endTick) return ["running", `running · ${run.endTick - tick} ticks left`];
  return ["ended", `ended at tick ${run.endTick}`];
}

function renderRuns() {
  const runs = [...state.scenarios.runs].reverse().slice(0, 6);
  const items = runs.map((run) => {
    const [name, text] = runState(run);
    const done = Math.min(1, Math.max(0, ((state.tick ?? 0) - run.startTick) / (run.endTick - run.startTick)));
    const bar = el("span", { class: "bar" }, el("span", {}));
    bar.firstChild.style.width = `${done * 100}%`;
    return el(
      "li",
      { "data-state": name, "data-name": run.name },
      el("span", { class: "name", text: run.name + (run.target ? ` · ${run.target}` : "") }),
      el("span", { class: "status", text }),
      bar,
    );
  });
  if (!items.length) items.push(el("li", { class: "hint", text: "No scenario has run in this generation." }));
  document.getElementById("scenario-runs").replaceChildren(...items);
}

async function startScenario(event) {
  event.preventDefault();
  const body = { name: document.getElementById("scenario-name").value, durationTicks: Number(document.getElementById("scenario-duration").value) };
  const vendor = document.getElementById("scenario-vendor").value;
  if (body.name === "vendor-outage" && vendor) body.vendorId = vendor;
  await busy(document.getElementById("scenario-start"), async () => {
    const { data } = await request("POST", "/api/scenarios", { body });
    notify("success", `${data.name}${data.target ? ` on ${data.target}` : ""} starts at tick ${data.startTick} and runs until tick ${data.endTick}.`);
    await refreshScenarios();
  });
}

// --- the world and its mirror --------------------------------------------------------------------------

function armRegenerate() {
  const button = document.getElementById("regenerate");
  let armed = null;
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = "Click again to regenerate";
      button.classList.add("danger");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = "Regenerate";
        button.classList.remove("danger");
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = "Regenerate";
    button.classList.remove("danger");
    await busy(button, async () => {
      const { data, text } = await request("POST", "/api/regenerate");
      notify("success", `A new world: seed ${exactSeed(text, data.seed)}, tick ${data.tick}.`);
      await reloadAll();
    });
  });
}

async function syncNow() {
  await busy(document.getElementById("sync"), async () => {
    const { data } = await request("POST", "/api/sync");
    notify(data.status === "ok" ? "success" : "info", data.status === "disabled" ? `DynamoDB sync is off: ${data.message}` : data.message);
    await refreshStats();
  });
}

function renderDynamoDB(status) {
  const facts = [["Mirror", status.enabled ? "on" : "off"]];
  if (!status.enabled) facts.push(["Why", status.reason || "not configured"]);
  else {
    facts.push(
      ["Role", status.role || "–"],
      ["Endpoint", status.endpoint || status.region || "AWS"],
      ["Last sync", status.last_sync_at ? `${dateTime(status.last_sync_at)} · ${status.last_sync_result || "running"}` : "none yet"],
      ["Synced tick", status.synced_tick ?? "–"],
      ["Pending", `${status.items_pending} items, ${status.metrics_pending} KPI points`],
      ["Failures in a row", status.consecutive_failures],
    );
    if (status.last_error) facts.push(["Last error", status.last_error]);
  }
  const box = document.getElementById("dynamodb");
  box.dataset.enabled = String(status.enabled);
  box.replaceChildren(...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: String(value), class: term === "Last error" ? "bad" : "" })]));
}

// --- reports -------------------------------------------------------------------------------------------

function buildReports() {
  const box = document.getElementById("reports");
  box.replaceChildren(
    ...state.pageTypes.map((pageType) => {
      const text = pageType.replace(/-/g, " ").replace(/^./, (c) => c.toUpperCase());
      const button = el("button", { type: "button", "data-page-type": pageType, text });
      button.addEventListener("click", () => busy(button, () => downloadReport(pageType)));
      return button;
    }),
  );
}

async function downloadReport(pageType) {
  const { data, response } = await request("POST", "/api/generate-report", { body: { pageType }, as: "blob" });
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || `${pageType}.pdf`;
  const link = el("a", { href: URL.createObjectURL(data), download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  notify("success", `Downloaded ${name} (${Math.round(data.size / 1024)} KB, tick ${response.headers.get("X-Tick")}).`);
}

// --- start ---------------------------------------------------------------------------------------------

/** Everything from the API again: after a reconnect, a regenerate or a resync. */
async function reloadAll() {
  state.behind = false;
  await refreshStats();
  if (!state.stats) return;
  state.series = {};
  await Promise.all([
    attempt(async () => {
      await loadSeries("hour");
      await refreshKpis();
    }),
    refreshScenarios(),
    table.load(),
    state.chartRange === "hour" ? null : attempt(() => loadSeries(state.chartRange)),
  ]);
  renderChart();
  if (itemPanel.isOpen) await attempt(() => itemPanel.refresh());
}

function bindControls() {
  const key = document.getElementById("api-key");
  document.getElementById("api-key-form").addEventListener("submit", (event) => event.preventDefault());
  key.value = sessionStorage.getItem("prism-api-key") || "";
  setApiKey(key.value);
  key.addEventListener("input", () => {
    setApiKey(key.value);
    sessionStorage.setItem("prism-api-key", key.value.trim());
  });
  const kpiSelect = document.getElementById("chart-kpi");
  kpiSelect.replaceChildren(...state.kpis.map((kpi) => el("option", { value: kpi.name, text: kpi.label })));
  kpiSelect.value = state.chartKpi;
  kpiSelect.addEventListener("change", () => chooseKpi(kpiSelect.value));
  for (const button of document.querySelectorAll("#chart-range button")) button.addEventListener("click", () => chooseRange(button.dataset.range));
  document.getElementById("scenario-form").addEventListener("submit", startScenario);
  document.getElementById("sync").addEventListener("click", syncNow);
  armRegenerate();
  new ResizeObserver(() => renderChart()).observe(document.getElementById("chart"));
  document.addEventListener("visibilitychange", () => !document.hidden && state.behind && reloadAll());
  setInterval(renderCountdown, 100);
}

async function start() {
  await attempt(loadSchema);
  itemPanel = new ItemPanel({ schemas: state.schemas, onError: reportError });
  table = new EntityTable({ schemas: state.schemas, onOpen: (kind, id) => itemPanel.open(kind, id, { interval: state.interval }), onError: reportError });
  buildTiles(document.getElementById("kpis"), state.kpis, state.chartKpi, chooseKpi);
  buildReports();
  bindControls();
  await refreshStats();
  await refreshScenarios();
  await loadScenarioForm();
  follow();
}

start();
