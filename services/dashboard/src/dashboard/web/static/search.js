// The app picker: a search box (titles and developers' names, through /api/v1/stats/apps)
// whose results are buttons that narrow the page to one app, like the top tables' names.

import { stats } from "./api.js";
import { formatNumber, pickButton } from "./render.js";

const $ = (id) => document.getElementById(id);
const DELAY_MS = 250;
const SHOWN = 8;

/** Search as the user types; `token()` gives the current token, `onError(error)` is told
 * of a refused search. */
export function wireSearch(token, onError) {
  const input = $("app-search-input");
  const list = $("app-search-results");
  let timer = null;
  let ticket = 0;

  async function search() {
    const q = input.value.trim();
    const mine = ++ticket;
    if (!q || !token()) {
      clearResults();
      return;
    }
    try {
      const found = await stats.searchApps(token(), q, SHOWN);
      if (mine === ticket) showResults(q, found);
    } catch (error) {
      if (mine === ticket) onError(error);
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DELAY_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") clearSearch();
    if (event.key === "ArrowDown") {
      event.preventDefault();
      list.querySelector("button")?.focus();
    }
  });
  $("app-search").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    await search();
    list.querySelector("button")?.focus();
  });
}

function showResults(q, found) {
  const list = $("app-search-results");
  const items = found.map((app) => {
    const item = document.createElement("li");
    const title = app.title ?? `app #${app.app_id}`;
    const by = app.username ?? `user #${app.owner_id}`;
    const text = `${title} · ${by} · ${formatNumber(app.purchases)} purchases`;
    const pick = { kind: "app", id: app.app_id, label: `Show only ${title}`, name: title };
    item.append(pickButton(pick, text));
    return item;
  });
  if (!items.length) {
    const item = document.createElement("li");
    item.className = "empty";
    item.textContent = `No app matches “${q}”.`;
    items.push(item);
  }
  list.replaceChildren(...items);
  list.hidden = false;
}

function clearResults() {
  $("app-search-results").replaceChildren();
  $("app-search-results").hidden = true;
}

/** Empty the box and its results (an app was picked, or Escape). */
export function clearSearch() {
  $("app-search-input").value = "";
  clearResults();
}
