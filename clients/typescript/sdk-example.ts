// The same service through a full generated client: `npx @hey-api/openapi-ts -i <url>/openapi.json -o generated`
// writes one function per operation id (listClients, getClientHistory, getStats, ...), typed end to end.
import { client } from "./generated/client.gen";
import { getClient, getClientHistory, getHistory, getStats, listClients } from "./generated/sdk.gen";
import type { Client } from "./generated/types.gen";

declare const process: { env: Record<string, string | undefined> };
client.setConfig({ baseUrl: process.env.PRISM_URL ?? "http://localhost:8000" });

const page = await listClients({ query: { limit: 5, sort: "monthlyRevenue", order: "desc" }, throwOnError: true });
const clients: Client[] = page.data;
const total = Number(page.response.headers.get("X-Total-Count"));
const first = clients[0];
if (first !== undefined) {
  const one = await getClient({ path: { item_id: first.id }, throwOnError: true });
  const past = await getClientHistory({ path: { item_id: first.id }, query: { step: "5m" }, throwOnError: true });
  const revenue: number[] = past.data.points.map((point) => point.item.monthlyRevenue);
  console.log(`${one.data.name}: ${one.data.status}, MRR over the last hour ${revenue.join(", ")}`);
}
const stats = await getStats({ throwOnError: true });
const kpis = await getHistory({ throwOnError: true });
console.log(`${total} clients, tick ${stats.data.tick}, ${kpis.data.points.length} KPI points`);
