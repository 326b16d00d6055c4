// Putting answers of the API on the page: KPI tiles, tables, the range and freshness lines.
// Text only goes in through textContent, never as HTML.

import { formatDuration, formatInstant, HOUR } from "./time.js";

const numbers = new Intl.NumberFormat();
const percent = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const BUCKET_WORDS = { minute: "per minute", hour: "per hour", day: "per day" };

export function formatNumber(value) {
  return typeof value === "number" ? numbers.format(value) : "–";
}

const TILE_PARTS = ["value", "change", "total"];

/** The part `name` of a KPI tile; a tile gets all its parts, in order, on first use. */
function part(tile, name) {
  if (!tile.querySelector("[data-part]")) {
    for (const each of TILE_PARTS) {
      const element = document.createElement("span");
      element.dataset.part = each;
      element.className = `kpi-${each}`;
      tile.append(element);
    }
  }
  return tile.querySelector(`[data-part="${name}"]`);
}

/** The change from `previous` to `value`: {text, trend} with trend up, down or flat. */
export function change(value, previous) {
  if (typeof value !== "number" || typeof previous !== "number") return { text: "", trend: "" };
  if (value === previous) return { text: "no change", trend: "flat" };
  if (previous === 0) return { text: "▲ new (none before)", trend: "up" };
  const ratio = ((value - previous) / previous) * 100;
  const arrow = ratio > 0 ? "▲" : "▼";
  return { text: `${arrow} ${percent.format(Math.abs(ratio))}%`, trend: ratio > 0 ? "up" : "down" };
}

/** The window's figures (tiles with `data-kpi`) and their change against the window
 * just before; tiles without a window figure are left to renderAllTime. */
export function renderKpis(list, summary) {
  for (const tile of list.querySelectorAll("[data-kpi]")) {
    const name = tile.dataset.kpi;
    const value = summary?.[name];
    const previous = summary?.previous?.[name];
    tile.dataset.value = typeof value === "number" ? String(value) : "";
    tile.dataset.previous = typeof previous === "number" ? String(previous) : "";
    part(tile, "value").textContent = formatNumber(value);
    const { text, trend } = change(value, previous);
    const changed = part(tile, "change");
    changed.textContent = text ? `${text} vs previous period` : "";
    changed.title =
      typeof previous === "number" ? `previous period: ${formatNumber(previous)}` : "";
    tile.dataset.trend = trend;
  }
}

/** The all-time figures (`data-total`): under a tile's window figure, or as the figure of
 * a tile that has only an all-time one (no buckets are kept for it). */
export function renderAllTime(list, summary) {
  for (const tile of list.querySelectorAll("[data-total]")) {
    const value = summary?.[tile.dataset.total];
    const known = typeof value === "number";
    tile.dataset.allTime = known ? String(value) : "";
    if (tile.dataset.kpi) {
      part(tile, "total").textContent = known ? `all time ${formatNumber(value)}` : "";
    } else {
      part(tile, "value").textContent = formatNumber(value);
      part(tile, "total").textContent = "all time";
    }
  }
}

/** "Complete through event #N · up to date (last event …)", or "· K events behind ·
 * last event … · lag …": how far the figures go. The lag alone would grow on an idle
 * system that has everything, so it is shown only when the fold is behind, or when the
 * Appstore's log has not been checked yet (`behind` null). */
export function freshnessText(summary, timeZone) {
  if (!summary || !summary.last_sequence) return "No events folded yet.";
  const through = summary.contiguous_through ?? summary.last_sequence;
  const pieces = [`Complete through event #${formatNumber(through)}`];
  if (summary.last_sequence > through) {
    pieces.push(
      `events up to #${formatNumber(summary.last_sequence)} arrived, ` +
        "some before it are still missing",
    );
  }
  const lastEvent = summary.last_event_at
    ? `last event ${formatInstant(Date.parse(summary.last_event_at), timeZone, true)}`
    : "";
  if (summary.caught_up === true) {
    pieces.push(lastEvent ? `up to date (${lastEvent})` : "up to date");
    return `${pieces.join(" · ")}.`;
  }
  if (typeof summary.behind === "number") {
    const noun = summary.behind === 1 ? "event" : "events";
    pieces.push(`${formatNumber(summary.behind)} ${noun} behind`);
  }
  if (lastEvent) pieces.push(lastEvent);
  if (typeof summary.lag_seconds === "number") {
    pieces.push(`lag ${formatDuration(summary.lag_seconds)}`);
  }
  return `${pieces.join(" · ")}.`;
}

export function renderFreshness(element, summary, timeZone) {
  element.textContent = freshnessText(summary, timeZone);
  element.dataset.contiguousThrough = String(summary?.contiguous_through ?? "");
  element.dataset.lastSequence = String(summary?.last_sequence ?? "");
  element.dataset.behind = String(summary?.behind ?? "");
}

export function rangeText(view) {
  const from = formatInstant(view.fromMs, view.tz);
  const to = formatInstant(view.toMs, view.tz);
  return `${from} to ${to} (${view.tz}), ${BUCKET_WORDS[view.bucket]}`;
}

/** Top lists are kept per UTC hour: say so when the range does not start and end on one. */
export function topsHint(view) {
  const start = Math.floor(view.fromMs / HOUR) * HOUR;
  const end = Math.ceil(view.toMs / HOUR) * HOUR;
  if (start === view.fromMs && end === view.toMs) return "";
  return (
    "Top apps and developers are counted in whole UTC hours: " +
    `${formatInstant(start, view.tz)} to ${formatInstant(end, view.tz)}.`
  );
}

/** Fill a table body: one row per item of `rows`, each an array of cells {text, numeric,
 * pick?}. A cell with `pick` ({kind, id, label, name?}) holds a button that narrows the
 * page to that app or developer (the page listens for clicks on `button.pick`). */
export function renderRows(tbody, rows, emptyText, columns) {
  const fresh = rows.map((cells) => {
    const row = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (cell.pick) td.append(pickButton(cell.pick, cell.text));
      else td.textContent = cell.text;
      if (cell.numeric) td.className = "num";
      row.append(td);
    }
    return row;
  });
  if (!fresh.length) {
    const row = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = columns;
    td.className = "empty";
    td.textContent = emptyText;
    row.append(td);
    fresh.push(row);
  }
  tbody.replaceChildren(...fresh);
}

export function numeric(value) {
  return { text: formatNumber(value), numeric: true };
}

export function text(value) {
  return { text: value ?? "–", numeric: false };
}

/** A button that narrows the page to an app or a developer, named for a screen reader. */
export function pickButton({ kind, id, label, name }, text) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "pick";
  button.dataset.kind = kind;
  button.dataset.id = String(id);
  button.dataset.name = name ?? text;
  button.textContent = text;
  button.setAttribute("aria-label", label);
  return button;
}
