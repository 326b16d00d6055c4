// Which app or developer the page is narrowed to. The filter lives in the URL (?app_id= or
// ?owner_id=), so a link can be shared, a reload keeps it and the back button removes it.

export const PARAMETERS = { app: "app_id", owner: "owner_id" };
const NOUNS = { app: "App", owner: "Developer" };
const ID = /^[1-9][0-9]{0,17}$/;

/** The filter a URL names: {kind: "app" | "owner", id}, or null. */
export function filterFromUrl(href = window.location.href) {
  const params = new URL(href).searchParams;
  for (const [kind, name] of Object.entries(PARAMETERS)) {
    const text = params.get(name);
    if (text && ID.test(text)) return { kind, id: Number(text) };
  }
  return null;
}

/** This page's URL with `filter` in it (or none), everything else kept. */
export function urlWith(filter) {
  const url = new URL(window.location.href);
  for (const name of Object.values(PARAMETERS)) url.searchParams.delete(name);
  if (filter) url.searchParams.set(PARAMETERS[filter.kind], String(filter.id));
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The query arguments that narrow an API answer to `filter`. */
export function filterParams(filter) {
  return filter ? { [PARAMETERS[filter.kind]]: filter.id } : {};
}

export function sameFilter(a, b) {
  return (a?.kind ?? null) === (b?.kind ?? null) && (a?.id ?? null) === (b?.id ?? null);
}

/** "app:12", "owner:7" or "": what the page's dataset says it shows. */
export function filterKey(filter) {
  return filter ? `${filter.kind}:${filter.id}` : "";
}

/** The app's title or the developer's name, as far as `lookup` (its answer) tells. */
export function filterName(filter, lookup) {
  return filter.kind === "app"
    ? (lookup?.title ?? `app #${filter.id}`)
    : (lookup?.username ?? `user #${filter.id}`);
}

/** The chip's words: "App: Sky Watch" or "Developer: ada". */
export function filterLabel(filter, lookup) {
  return `${NOUNS[filter.kind]}: ${filterName(filter, lookup)}`;
}
