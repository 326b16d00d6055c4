// The figures' sections of the page: the range line, KPI tiles, the three charts over time
// and the two top lists, each drawn from one answer of the API.

import { barChart, chartsAvailable, lineChart, showBars, showSeries } from "./charts.js";
import * as render from "./render.js";
import { autoBucket, fitBucket, labelFormatter } from "./time.js";

export const SERIES = [
  { metric: "purchases", label: "Purchases" },
  { metric: "credits_spent", label: "Credits spent" },
  { metric: "apps_created", label: "Apps created" },
];

const $ = (id) => document.getElementById(id);

/** The Chart.js instances, or nulls without Chart.js (its data tables open instead). */
export function makeCharts() {
  const charts = {};
  for (const { metric, label } of SERIES) {
    charts[metric] = lineChart($(`chart-${metric}`), metric, label);
  }
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

export function showAllTime(summary, timeZone) {
  render.renderAllTime($("kpis"), summary);
  render.renderFreshness($("freshness-text"), summary, timeZone);
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

export function showTopApps(chart, rows, by) {
  const labels = rows.map((row) => row.title ?? `app ${row.app_id}`);
  showBars(chart, by, labels, rows.map((row) => row[by]));
  render.renderRows(
    document.querySelector("#top-apps tbody"),
    rows.map((row, i) => [
      render.numeric(i + 1),
      render.text(labels[i]),
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
      render.text(labels[i]),
      render.numeric(row.apps),
      render.numeric(row.purchases),
      render.numeric(row.revenue),
    ]),
    "No developers in this range.",
    5,
  );
}
