// A typed Prism client with no framework: the shape a dashboard copies.
// The types come from the service: `npx openapi-typescript http://localhost:8000/openapi.json -o prism.d.ts`.
// Run: `PRISM_URL=http://localhost:8000 npx tsx example.ts` — prints one JSON line per answer.
import type { components, operations } from "./prism.d.ts";

// Node and browsers both have fetch; only Node has process (declared here rather than pulling in @types/node).
declare const process: { env: Record<string, string | undefined> };

type Schemas = components["schemas"];
type Json<Op extends keyof operations> = operations[Op]["responses"] extends { 200: { content: { "application/json": infer B } } }
  ? B
  : never;

const base = process.env.PRISM_URL ?? "http://localhost:8000";
const report = (operationId: keyof operations, path: string, body: unknown): void =>
  console.log(JSON.stringify({ operationId, path, body }));

async function get<Op extends keyof operations>(operationId: Op, path: string): Promise<Json<Op>> {
  const response = await fetch(base + path);
  if (!response.ok) {
    const error = (await response.json()) as Schemas["ErrorBody"];
    throw new Error(`${path}: ${response.status} ${JSON.stringify(error.detail)}`);
  }
  const body = (await response.json()) as Json<Op>;
  report(operationId, path, body);
  return body;
}

// Each list, one item of it and its history: the operation ids a generator names its functions after.
const kinds = [
  ["clients", "listClients", "getClient", "getClientHistory"],
  ["licenses", "listLicenses", "getLicense", "getLicenseHistory"],
  ["leads", "listLeads", "getLead", "getLeadHistory"],
  ["technicians", "listTechnicians", "getTechnician", "getTechnicianHistory"],
  ["departments", "listDepartments", "getDepartment", "getDepartmentHistory"],
  ["vendors", "listVendors", "getVendor", "getVendorHistory"],
  ["contracts", "listContracts", "getContract", "getContractHistory"],
] as const;

const clients: Schemas["Client"][] = await get("listClients", "/api/clients?limit=5");
const atRisk: number = clients.filter((client) => client.status === "At Risk").length;
console.error(`${clients.length} clients on the first page, ${atRisk} at risk`);

for (const [kind, list, item, history] of kinds) {
  const items = await get(list, `/api/${kind}?limit=3`);
  const first = items[0];
  if (first === undefined) continue;
  await get(item, `/api/${kind}/${encodeURIComponent(first.id)}`);
  const past = await get(history, `/api/${kind}/${encodeURIComponent(first.id)}/history?step=1m`);
  console.error(`${kind}: ${past.points.length} points of ${first.id}, every ${past.stepSeconds} s`);
}

const stats: Schemas["Stats"] = await get("getStats", "/api/stats");
const kpis: Schemas["HistoryResult"] = await get("getHistory", "/api/history");
console.error(`tick ${stats.tick}, MRR ${kpis.points.at(-1)?.totalMrr ?? 0} USD`);

// The change feed: server-sent events over a streaming fetch, each `data:` the JSON of its event's schema.
type ChangeFeedEvent = Schemas["ChangeFeedEvent"];

function parse(block: string): ChangeFeedEvent | undefined {
  const fields = new Map<string, string>();
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // keep-alive comment
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).replace(/^ /, ""));
  }
  const event = fields.get("event");
  const data = fields.get("data");
  if (event === undefined || data === undefined) return undefined;
  const id = fields.get("id");
  return { event, ...(id === undefined ? {} : { id }), data: JSON.parse(data) } as ChangeFeedEvent;
}

function handle(event: ChangeFeedEvent): void {
  switch (event.event) {
    case "tick":
      console.error(`tick ${event.data.tick}: ${event.data.changed.clients.length} clients changed, ` +
        `${event.data.removed.leads.length} leads closed`);
      break;
    case "regenerate":
    case "scenario":
      console.error(`${event.event}: generation ${event.data.seed}, ${event.data.counts.clients} clients`);
      break;
    case "resync":
      console.error(`resync: ${event.data.reason}`);
      break;
  }
}

const wanted = Number(process.env.PRISM_EVENTS ?? "1");
const feed = await fetch(`${base}/api/events`, { headers: { Accept: "text/event-stream" } });
if (!feed.ok || feed.body === null) throw new Error(`/api/events: ${feed.status}`);
const reader = feed.body.pipeThrough(new TextDecoderStream()).getReader();
let buffer = "";
let seen = 0;
while (seen < wanted) {
  const { value, done } = await reader.read();
  if (done) break;
  buffer += value.replace(/\r\n?/g, "\n");
  let end: number;
  while (seen < wanted && (end = buffer.indexOf("\n\n")) >= 0) {
    const event = parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 2);
    if (event === undefined) continue;
    report("streamEvents", "/api/events", event);
    handle(event);
    seen += 1;
  }
}
await reader.cancel();
