// The figures' sections of the page: the range line, KPI tiles, the charts over time, the
// credit view and the two top lists, each drawn from one answer of the API; and what the
// page is narrowed to (one app or developer), shown as a removable chip.

import {
  barChart,
  chartsAvailable,
  creditChart,
  lineChart,
  showBars,
  showCredit,
  showSeries,
} from "./charts.js";
import { filterLabel, filterName } from "./filter.js";
import * as render from "./render.js";
import { autoBucket, fitBucket, formatInstant, labelFormatter } from "./time.js";

/** The series over time, each on a card of its own; `column` heads its table's values,
 * `scoped` ones have figures per app and developer (the others hide when filtered). */
export const SERIES = [
  { metric: "purchases", label: "Purchases", column: "Purchases", scoped: true },
  { metric: "credits_spent", label: "Credits spent", column: "Credits", scoped: true },
  { metric: "apps_created", label: "Apps created", column: "Apps", scoped: false },
];

const $ = (id) => document.getElementById(id);

/** A card of `SERIES` from the page's template, placed before the credit view's. */
function addSeriesCard({ metric, label, column, scoped }) {
  const card = $("series-card").content.firstElementChild.cloneNode(true);
  card.dataset.series = metric;
  card.querySelector("h2").textContent = label;
  const csv = card.querySelector("a.csv");
  csv.dataset.metric = metric;
  const canvas = card.querySelector("canvas");
  canvas.id = `chart-${metric}`;
  canvas.setAttribute("aria-label", `${label} over time`);
  card.querySelector("th.num").textContent = column;
  if (scoped) card.dataset.scoped = csv.dataset.scoped = "yes";
  const credit = document.querySelector('[data-series="credit"]');
  credit.parentElement.insertBefore(card, credit);
}

/** The series' cards and the Chart.js instances, or nulls without Chart.js (its data tables
 * open instead). */
export function makeCharts() {
  for (const one of SERIES) addSeriesCard(one);
  const charts = {};
  for (const { metric, label } of SERIES) {
    charts[metric] = lineChart($(`chart-${metric}`), metric, label);
  }
  charts.credit = creditChart($("chart-credit"));
  charts.topApps = barChart($("chart-top-apps"), "apps");
  charts.topDevelopers = barChart($("chart-top-developers"), "developers");
  if (!chartsAvailable()) {
    document.body.classList.add("no-charts");
    for (const details of document.querySelectorAll(".card details")) details.open = true;
  }
  return charts;
}

/** The range line, the bucket "auto" choice spelled out, the top lists' own window. */
export function showView(view, presetSpan) {
  $("range-label").textContent = render.rangeText(view);
  const span = presetSpan ?? view.toMs - view.fromMs;
  const auto = $("bucket").querySelector('option[value="auto"]');
  auto.textContent = `Follow the range (${fitBucket(autoBucket(span), span)})`;
  $("tops-hint").textContent = render.topsHint(view);
  $("tops-hint").hidden = !$("tops-hint").textContent;
}

/** The store's all-time figures: the freshness line, and the tiles unless `tiles` is
 * false (the page is filtered: they hold the app's or developer's own). */
export function showAllTime(summary, timeZone, tiles = true) {
  if (tiles) render.renderAllTime($("kpis"), summary);
  render.renderFreshness($("freshness-text"), summary, timeZone);
}

/** One app's or developer's all-time figures beneath its tiles. */
export function showScopedAllTime(summary) {
  render.renderAllTime($("kpis"), summary);
}

export function showWindow(summary) {
  render.renderKpis($("kpis"), summary);
}

export function showTimeseries(chart, { metric, label }, answer, view) {
  const format = labelFormatter(view.bucket, view.tz, view.toMs - view.fromMs);
  const points = answer.points ?? [];
  const times = points.map((point) => point.t);
  const labels = times.map((t) => format.format(new Date(t)));
  const values = points.map((point) => point.value);
  showSeries(chart, labels, values, times);
  const card = document.querySelector(`[data-series="${metric}"]`);
  const total = values.reduce((sum, value) => sum + value, 0);
  card.dataset.sum = String(total);
  const peak = values.length ? Math.max(...values) : 0;
  card.querySelector("canvas").setAttribute(
    "aria-label",
    `${label}, ${render.rangeText(view)}: ${render.formatNumber(total)} in all` +
      (peak ? `, most ${render.formatNumber(peak)} at ${labels[values.indexOf(peak)]}` : ""),
  );
  render.renderRows(
    card.querySelector("tbody"),
    points.map((point, i) => [render.text(labels[i]), render.numeric(point.value)]),
    "No buckets in this range.",
    2,
  );
}

/** Which metrics have figures per app and developer: the others are hidden when filtered. */
export function seriesFor(filter) {
  return filter ? SERIES.filter((one) => one.scoped) : SERIES;
}

/** Tiles and cards without figures per app or developer hide while the page is filtered;
 * the chip says what it is filtered to, `lookup` (the app's or developer's own answer)
 * adds its price, all-time figures and rank. */
export function showScope(filter, lookup, timeZone) {
  for (const part of document.querySelectorAll("#kpis .kpi, .charts .card")) {
    part.hidden = Boolean(filter) && part.dataset.scoped !== "yes";
  }
  $("filter").hidden = !filter;
  $("top-apps-title").textContent =
    filter?.kind === "owner" ? `Top apps of ${filterName(filter, lookup)}` : "Top apps";
  if (!filter) return;
  $("filter-label").textContent = filterLabel(filter, lookup);
  // Only the app's or developer's own answer has figures (a name alone: not yet).
  const answered = typeof lookup?.purchases === "number";
  $("filter-details").textContent = answered ? scopeDetails(filter, lookup, timeZone) : "";
}

function scopeDetails(filter, lookup, timeZone) {
  const pieces = [];
  const all = `all time ${render.formatNumber(lookup.purchases)} purchases, `;
  if (filter.kind === "app") {
    pieces.push(`by ${lookup.username ?? `user #${lookup.owner_id}`}`);
    if (typeof lookup.price === "number") {
      const history = lookup.prices ?? [];
      let price = `price ${render.formatNumber(lookup.price)}`;
      if (history.length > 1) {
        const last = history[history.length - 1];
        const before = history[history.length - 2];
        const when = formatInstant(Date.parse(last.from), timeZone);
        price += ` since ${when} (was ${render.formatNumber(before.price)})`;
      }
      pieces.push(price);
    }
    pieces.push(`${all}${render.formatNumber(lookup.revenue)} credits`);
    if (lookup.rank?.purchases) pieces.push(`#${lookup.rank.purchases} by purchases`);
  } else {
    pieces.push(`${render.formatNumber(lookup.apps)} apps`);
    pieces.push(`${all}${render.formatNumber(lookup.revenue)} credits earned`);
    if (lookup.rank?.revenue) pieces.push(`#${lookup.rank.revenue} by revenue`);
  }
  return pieces.join(" · ");
}

/** Credits granted beside credits spent, per bucket of the view (the whole store's). */
export function showCreditView(chart, granted, spent, view) {
  const format = labelFormatter(view.bucket, view.tz, view.toMs - view.fromMs);
  const points = granted.points ?? [];
  const times = points.map((point) => point.t);
  const labels = times.map((t) => format.format(new Date(t)));
  const given = points.map((point) => point.value);
  const used = (spent.points ?? []).map((point) => point.value);
  showCredit(chart, labels, given, used, times);
  const card = document.querySelector('[data-series="credit"]');
  const sum = (values) => values.reduce((total, value) => total + value, 0);
  card.dataset.granted = String(sum(given));
  card.dataset.spent = String(sum(used));
  card.querySelector("canvas").setAttribute(
    "aria-label",
    `Credits granted and spent, ${render.rangeText(view)}: ` +
      `${render.formatNumber(sum(given))} granted, ${render.formatNumber(sum(used))} spent`,
  );
  render.renderRows(
    card.querySelector("tbody"),
    points.map((_point, i) => [
      render.text(labels[i]),
      render.numeric(given[i]),
      render.numeric(used[i] ?? 0),
    ]),
    "No buckets in this range.",
    3,
  );
}

export function showTopApps(chart, rows, by) {
  const labels = rows.map((row) => row.title ?? `app ${row.app_id}`);
  showBars(chart, by, labels, rows.map((row) => row[by]));
  render.renderRows(
    document.querySelector("#top-apps tbody"),
    rows.map((row, i) => [
      render.numeric(i + 1),
      {
        text: labels[i],
        pick: { kind: "app", id: row.app_id, label: `Show only ${labels[i]}` },
      },
      render.numeric(row.purchases),
      render.numeric(row.revenue),
    ]),
    "No purchases in this range.",
    4,
  );
}

export function showTopDevelopers(chart, rows, by) {
  const labels = rows.map((row) => row.username ?? `user ${row.owner_id}`);
  showBars(chart, by, labels, rows.map((row) => row[by]));
  render.renderRows(
    document.querySelector("#top-developers tbody"),
    rows.map((row, i) => [
      render.numeric(i + 1),
      {
        text: labels[i],
        pick: { kind: "owner", id: row.owner_id, label: `Show only ${labels[i]}'s apps` },
      },
      render.numeric(row.apps),
      render.numeric(row.purchases),
      render.numeric(row.revenue),
    ]),
    "No developers in this range.",
    5,
  );
}
