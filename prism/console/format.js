// How the console writes numbers, times and field values, and how it reads a field's unit from the schema.

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const moneyCents = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const plain = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

/** $1.2M, $530K, $950: money at a glance (tiles, chart axes). */
export function compactMoney(value) {
  const size = Math.abs(value);
  if (size >= 1e9) return `$${(value / 1e9).toFixed(2)}B`;
  if (size >= 1e6) return `$${(value / 1e6).toFixed(2)}M`;
  if (size >= 1e4) return `$${(value / 1e3).toFixed(1)}K`;
  return money.format(value);
}

/** A value in its unit: "money", "percent", "count" or anything else (plain). */
export function formatValue(value, unit, { compact = false } = {}) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (unit === "money") return compact ? compactMoney(value) : Math.abs(value) < 10 ? moneyCents.format(value) : money.format(value);
  if (unit === "percent") return `${value.toFixed(compact ? 1 : 2)}%`;
  if (unit === "count") return Math.round(value).toLocaleString("en-US");
  return plain.format(value);
}

/** The unit of a schema property, from its type and its description ("USD", "%", "x 100"). */
export function unitOf(property) {
  if (!property) return "text";
  if (property.type === "integer") return "count";
  if (property.type !== "number") return property.type === "boolean" ? "boolean" : "text";
  const description = property.description || "";
  if (/USD/.test(description)) return "money";
  if (/%|x 100|percent/i.test(description)) return "percent";
  return "number";
}

/** 23:04:12 (UTC): the clock of the simulated world. */
export function clockTime(iso) {
  return iso ? iso.slice(11, 19) : "–";
}

/** 2026-12-01 23:04 UTC. */
export function dateTime(iso) {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "–";
}

/** "3 s", "2 min", "5 h" ago or ahead. */
export function duration(seconds) {
  const size = Math.abs(seconds);
  if (size < 10) return `${size.toFixed(1)} s`;
  if (size < 120) return `${Math.round(size)} s`;
  if (size < 7200) return `${Math.round(size / 60)} min`;
  if (size < 172800) return `${Math.round(size / 3600)} h`;
  return `${Math.round(size / 86400)} d`;
}

/** An element with a class and text (or children): the console builds its DOM with this, never with HTML strings. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}
