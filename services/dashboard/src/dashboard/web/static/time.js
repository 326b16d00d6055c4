// Ranges, buckets and labels in any IANA time zone, without a date library: the browser's
// Intl database knows every zone's rules, and a wall-clock time is turned into an instant by
// asking it for the zone's offset at that moment.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const BUCKETS = ["minute", "hour", "day"];
export const BUCKET_MS = { minute: MINUTE, hour: HOUR, day: DAY };
export const PRESETS = { "1h": HOUR, "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY };
// More points than this make a line chart unreadable (and a heavy answer): a finer bucket
// than that is replaced by the next coarser one.
export const MAX_POINTS = 1500;

const partFormatters = new Map();

function partsFormatter(timeZone) {
  let formatter = partFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    partFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The wall clock in `timeZone` at instant `ms`: {year, month (1-12), day, hour, minute,
 * second}. */
export function wallClock(ms, timeZone) {
  const parts = {};
  for (const { type, value } of partsFormatter(timeZone).formatToParts(new Date(ms))) {
    parts[type] = Number(value);
  }
  return {
    year: parts.year,
    month: parts.month,
    day: parts.day,
    hour: parts.hour % 24,
    minute: parts.minute,
    second: parts.second,
  };
}

function offsetAt(ms, timeZone) {
  const seconds = Math.floor(ms / 1000) * 1000;
  const w = wallClock(seconds, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - seconds;
}

/** The instant at which the wall clock in `timeZone` reads the given time (day may overflow). */
export function zonedToInstant({ year, month, day, hour = 0, minute = 0 }, timeZone) {
  const local = Date.UTC(year, month - 1, day, hour, minute);
  const first = local - offsetAt(local, timeZone);
  // Near a daylight-saving change the offset at the guess may differ: a second pass settles it.
  return local - offsetAt(first, timeZone);
}

/** The start of the bucket holding instant `ms`, buckets aligned in `timeZone`. */
export function floorToBucket(ms, bucket, timeZone) {
  if (bucket === "minute") return ms - (((ms % MINUTE) + MINUTE) % MINUTE);
  const w = wallClock(ms, timeZone);
  if (bucket === "hour") return zonedToInstant({ ...w, minute: 0 }, timeZone);
  return zonedToInstant({ year: w.year, month: w.month, day: w.day }, timeZone);
}

/** `n` buckets after (or before, n < 0) the bucket start `ms`; days follow the calendar. */
export function shiftBuckets(ms, bucket, n, timeZone) {
  if (bucket !== "day") return ms + n * BUCKET_MS[bucket];
  const w = wallClock(ms, timeZone);
  return zonedToInstant({ year: w.year, month: w.month, day: w.day + n }, timeZone);
}

export function autoBucket(spanMs) {
  if (spanMs <= 2 * HOUR) return "minute";
  if (spanMs <= 7 * DAY) return "hour";
  return "day";
}

/** `bucket`, or the first coarser one that keeps the span under MAX_POINTS. */
export function fitBucket(bucket, spanMs) {
  let index = BUCKETS.indexOf(bucket);
  while (index < BUCKETS.length - 1 && spanMs / BUCKET_MS[BUCKETS[index]] > MAX_POINTS) index++;
  return BUCKETS[index];
}

/** "2026-11-27" -> {year, month, day}, or null. */
export function parseDateInput(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  if (!match) return null;
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

/** The calendar date in `timeZone` at `ms`, `daysBack` days earlier, as "YYYY-MM-DD". */
export function dateInputValue(ms, timeZone, daysBack = 0) {
  const w = wallClock(ms, timeZone);
  const date = new Date(Date.UTC(w.year, w.month - 1, w.day - daysBack));
  return date.toISOString().slice(0, 10);
}

export function isoUtc(ms) {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/**
 * What to ask the API for: {from, to, tz, bucket} with from/to ISO-8601 UTC instants on
 * bucket boundaries in the zone, so the points, the KPI window and the CSV all cover the
 * same whole buckets. A preset ends with the bucket that holds `nowMs`; a custom range
 * runs from the start of its first day to the end of its last, in the zone.
 *
 * Throws RangeError for a custom range that is incomplete or runs backwards.
 */
export function computeView(choice, nowMs) {
  const { tz } = choice;
  let from;
  let to;
  let bucket;
  if (choice.preset === "custom") {
    const first = parseDateInput(choice.customFrom);
    const last = parseDateInput(choice.customTo);
    if (!first || !last) throw new RangeError("Choose both a start and an end date.");
    from = zonedToInstant(first, tz);
    to = zonedToInstant({ ...last, day: last.day + 1 }, tz);
    if (to <= from) throw new RangeError("The end date is before the start date.");
    bucket = chosenBucket(choice.bucket, to - from);
  } else {
    const span = PRESETS[choice.preset] ?? PRESETS["24h"];
    bucket = chosenBucket(choice.bucket, span);
    to = shiftBuckets(floorToBucket(nowMs, bucket, tz), bucket, 1, tz);
    const count = Math.max(1, Math.round(span / BUCKET_MS[bucket]));
    from = shiftBuckets(to, bucket, -count, tz);
  }
  return { from: isoUtc(from), to: isoUtc(to), tz, bucket, fromMs: from, toMs: to };
}

function chosenBucket(choice, spanMs) {
  return fitBucket(BUCKETS.includes(choice) ? choice : autoBucket(spanMs), spanMs);
}

/** A formatter for the x-axis labels of a series in `bucket`s over a span of `spanMs`. */
export function labelFormatter(bucket, timeZone, spanMs) {
  const options = { timeZone };
  if (bucket === "day") {
    Object.assign(options, { weekday: "short", day: "numeric", month: "short" });
  } else if (bucket === "hour" || spanMs > DAY) {
    Object.assign(options, {
      day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  } else {
    Object.assign(options, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }
  return new Intl.DateTimeFormat(undefined, options);
}

/** A full date and time in `timeZone`, with the zone's short name. */
export function formatInstant(ms, timeZone, withSeconds = false) {
  return new Intl.DateTimeFormat(undefined, {
    timeZone,
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: withSeconds ? "2-digit" : undefined,
    hourCycle: "h23",
    timeZoneName: "short",
  }).format(new Date(ms));
}

/** "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** The browser's own zone, or UTC where it cannot tell. */
export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
