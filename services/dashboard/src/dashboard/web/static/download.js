// CSV downloads. The export needs the bearer token, which a plain link cannot send: the
// file is fetched with it and handed to the browser as a download of a blob.

import { stats } from "./api.js";

/** "purchases_day_20261118T0000Z_20261128T0000Z_Asia-Kolkata.csv", with "_app12" (or
 * "_owner7") after the metric when the page is filtered. */
export function csvFileName(view, metric, filter = null) {
  const stamp = (iso) => iso.replace(/[-:]/g, "");
  const zone = view.tz.replace(/\//g, "-");
  const whose = filter ? `_${filter.kind}${filter.id}` : "";
  return `${metric}${whose}_${view.bucket}_${stamp(view.from)}_${stamp(view.to)}_${zone}.csv`;
}

/** Point each CSV link at the export of exactly what its chart shows. */
export function showCsvLinks(view, filter = null) {
  for (const link of document.querySelectorAll("a.csv")) {
    // Store-wide metrics (credits granted) are never narrowed to an app.
    const narrowed = link.dataset.scoped === "yes" ? filter : null;
    link.href = stats.csvPath(view, link.dataset.metric, narrowed);
    link.download = csvFileName(view, link.dataset.metric, narrowed);
  }
}

/** Download the CSV of `metric` for `view` (of `filter`'s app or developer, if any);
 * rejects with the API's error. */
export async function downloadCsv(token, view, metric, filter = null) {
  const blob = await stats.csv(token, view, metric, filter);
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = csvFileName(view, metric, filter);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
