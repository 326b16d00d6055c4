// CSV downloads. The export needs the bearer token, which a plain link cannot send: the
// file is fetched with it and handed to the browser as a download of a blob.

import { stats } from "./api.js";

/** "purchases_day_20261118T0000Z_20261128T0000Z_Asia-Kolkata.csv" */
export function csvFileName(view, metric) {
  const stamp = (iso) => iso.replace(/[-:]/g, "");
  const zone = view.tz.replace(/\//g, "-");
  return `${metric}_${view.bucket}_${stamp(view.from)}_${stamp(view.to)}_${zone}.csv`;
}

/** Point each CSV link at the export of exactly what its chart shows. */
export function showCsvLinks(view) {
  for (const link of document.querySelectorAll("a.csv")) {
    link.href = stats.csvPath(view, link.dataset.metric);
    link.download = csvFileName(view, link.dataset.metric);
  }
}

/** Download the CSV of `metric` for `view`; rejects with the API's error. */
export async function downloadCsv(token, view, metric) {
  const blob = await stats.csv(token, view, metric);
  const href = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = href;
  link.download = csvFileName(view, metric);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}
