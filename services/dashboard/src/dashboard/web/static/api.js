// The stats API of the same origin. Every call sends the signed-in user's token; an answer
// other than 2xx becomes an ApiError carrying the HTTP status and the API's own message
// (errors come as {code, status, message, errors?}).

import { filterParams } from "./filter.js";

export class ApiError extends Error {
  constructor(status, message, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function send(path, { token, params, method = "GET", json } = {}) {
  const headers = { Accept: "application/json, text/csv;q=0.9" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path, params), {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, `The dashboard cannot be reached (${error.message}).`);
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      // not JSON: a proxy's error page, say
    }
    const message = body?.message || `${response.status} ${response.statusText}`.trim();
    throw new ApiError(response.status, message, body);
  }
  return response;
}

export async function getJson(path, token, params) {
  return (await send(path, { token, params })).json();
}

export async function getBlob(path, token, params) {
  return (await send(path, { token, params })).blob();
}

/** Exchange Appstore credentials for a token: {access_token, token_type, expires_in}. */
export async function signIn(username, password) {
  const response = await send("/api/v1/auth/token", {
    method: "POST",
    json: { username, password },
  });
  return response.json();
}

// `filter` ({kind, id} or null) narrows an answer to one app or developer (see filter.js).
export const stats = {
  allTime: (token, filter = null) =>
    getJson("/api/v1/stats/summary", token, filterParams(filter)),
  summary: (token, view, filter = null) =>
    getJson("/api/v1/stats/summary", token, { ...range(view), ...filterParams(filter) }),
  timeseries: (token, view, metric, filter = null) =>
    getJson("/api/v1/stats/timeseries", token, seriesParams(view, metric, filter)),
  topApps: (token, view, by, ownerId = null) =>
    getJson("/api/v1/stats/top-apps", token, {
      by,
      limit: 10,
      ...range(view),
      owner_id: ownerId,
    }),
  topDevelopers: (token, view, by) =>
    getJson("/api/v1/stats/top-developers", token, { by, limit: 10, ...range(view) }),
  csvPath: (view, metric, filter = null) =>
    url("/api/v1/stats/export.csv", seriesParams(view, metric, filter)),
  csv: (token, view, metric, filter = null) =>
    getBlob("/api/v1/stats/export.csv", token, seriesParams(view, metric, filter)),
  lookup: (token, filter) =>
    getJson(`/api/v1/${filter.kind === "app" ? "apps" : "developers"}/${filter.id}`, token),
  searchApps: (token, q, pageSize) =>
    getJson("/api/v1/stats/apps", token, { q, page_size: pageSize }),
  streamUrl: (token) => url("/api/v1/stream", { access_token: token }),
};

function range(view) {
  return { from: view.from, to: view.to };
}

function seriesParams(view, metric, filter) {
  return {
    metric,
    bucket: view.bucket,
    from: view.from,
    to: view.to,
    tz: view.tz,
    ...filterParams(filter),
  };
}
