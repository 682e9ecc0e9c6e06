// The public API as the console uses it: every request goes through `request`, and every failure becomes an
// ApiError whose message a person can read (the status, and the server's own `detail`).

export class ApiError extends Error {
  constructor(method, path, status, detail) {
    super(describe(method, path, status, detail));
    this.status = status;
    this.detail = detail;
  }
}

function describe(method, path, status, detail) {
  const where = `${method} ${path.split("?")[0]}`;
  if (status === 0) return `${where}: the service did not answer (${detail})`;
  let reason = detail;
  if (Array.isArray(detail)) {
    reason = detail.map((e) => `${(e.loc || []).slice(1).join(".") || "request"}: ${e.msg}`).join("; ");
  } else if (typeof detail !== "string") {
    reason = JSON.stringify(detail);
  }
  const hint = status === 401 ? " — enter the API key at the top of the page" : "";
  return `${where} answered ${status}: ${reason}${hint}`;
}

let apiKey = "";

/** The key sent as X-API-Key with every POST ("" sends none). */
export function setApiKey(key) {
  apiKey = key.trim();
}

async function errorDetail(response) {
  try {
    const body = await response.json();
    return body.detail ?? body.error ?? body.message ?? body;
  } catch {
    return response.statusText || "no reason given";
  }
}

/**
 * Send a request; answer {data, text, response} (data parsed from the JSON text, or the Blob of a PDF), or
 * throw an ApiError.
 * GETs revalidate with the browser's cached ETag, so an unchanged answer costs a 304.
 */
export async function request(method, path, { body, as = "json" } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && apiKey) headers["X-API-Key"] = apiKey;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: method === "GET" ? "no-cache" : "no-store",
    });
  } catch (error) {
    throw new ApiError(method, path, 0, error.message);
  }
  if (!response.ok) throw new ApiError(method, path, response.status, await errorDetail(response));
  if (as === "blob") return { data: await response.blob(), response };
  const text = await response.text();
  return { data: JSON.parse(text), text, response };
}

export const get = (path) => request("GET", path);

/** A path with its query string; `params` is a list of [name, value] pairs (a name may repeat). */
export function withQuery(path, params) {
  const query = new URLSearchParams(params.filter(([, value]) => value !== undefined && value !== null));
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}
