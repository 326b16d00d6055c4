// The management page: once signed in (access.js), the figures for the chosen range and
// zone (of the whole store, or of one app or developer), refreshed whenever the stream says
// new events were folded.

import { makeAccess } from "./access.js";
import { stats } from "./api.js";
import { chartsAvailable } from "./charts.js";
import { fillZones, loadChoice, saveChoice, showChoice, wireControls } from "./choice.js";
import { downloadCsv, showCsvLinks } from "./download.js";
import * as figures from "./figures.js";
import { filterFromUrl, filterKey, sameFilter, urlWith } from "./filter.js";
import { openStream, setLive } from "./live.js";
import { clearSearch, wireSearch } from "./search.js";
import { computeView, PRESETS } from "./time.js";

// A burst of folds sends a burst of summaries; one refetch covers them all.
const REFRESH_DELAY_MS = 1000;
const STREAM_RETRY_MS = 5000;
const NO_CHARTS =
  "Charts are unavailable: the charting library did not load (run `npm ci` in " +
  "services/dashboard). The tables show the same figures.";

const $ = (id) => document.getElementById(id);

const state = {
  choice: null,
  filter: null, // the app or developer the page is narrowed to, as the URL says: {kind, id}
  view: null, // what the figures on screen are for: {from, to, tz, bucket, fromMs, toMs}
  charts: {},
  stream: null,
  allTime: null,
  shownSequence: null, // the last event folded into the figures on screen
  timers: {},
  loadTicket: 0,
  loads: 0,
};

const access = makeAccess({ onEnter: enter, onLeave: stop });

function notice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
}

// --- the session's figures -------------------------------------------------------------------

function enter() {
  state.shownSequence = null;
  state.allTime = null;
  load();
}

/** Forget the session's work in progress: stream, timers, answers still on their way. */
function stop() {
  state.loadTicket += 1;
  state.stream?.close();
  state.stream = null;
  for (const timer of Object.values(state.timers)) clearTimeout(timer);
  state.timers = {};
  setLive("off");
}

// --- loading the figures ---------------------------------------------------------------------

function choose(changes) {
  Object.assign(state.choice, changes);
  saveChoice(state.choice);
  showChoice(state.choice);
  load();
}

async function load() {
  if (!access.token()) return;
  const ticket = ++state.loadTicket;
  let view;
  try {
    view = computeView(state.choice, Date.now());
  } catch (error) {
    notice(error.message);
    return;
  }
  const dashboard = $("dashboard");
  dashboard.dataset.state = "loading";
  const token = access.token();
  const { choice, filter } = state;
  const shown = figures.seriesFor(filter);
  const none = Promise.resolve(null);
  const ownerId = filter?.kind === "owner" ? filter.id : null;
  const asked = {
    allTime: stats.allTime(token),
    summary: stats.summary(token, view, filter),
    // The app's or developer's own all-time figures, beneath its tiles.
    scopedAllTime: filter ? stats.allTime(token, filter) : none,
    lookup: filter ? stats.lookup(token, filter) : none,
    granted: filter ? none : stats.timeseries(token, view, "credits_granted"),
    apps: stats.topApps(token, view, choice.topAppsBy, ownerId),
    developers: stats.topDevelopers(token, view, choice.topDevelopersBy),
  };
  for (const { metric } of shown) asked[metric] = stats.timeseries(token, view, metric, filter);
  const names = Object.keys(asked);
  const settled = await Promise.allSettled(Object.values(asked));
  if (ticket !== state.loadTicket) return; // a newer load (or a sign-out) took over
  const failures = settled.filter((a) => a.status === "rejected").map((a) => a.reason);
  const refusal = failures.find((f) => f.status === 401) ?? failures.find((f) => f.status === 403);
  if (access.refused(refusal)) return;
  const got = Object.fromEntries(names.map((name, i) => [name, settled[i].value]));
  const { allTime, summary, apps, developers } = got;
  state.view = view;
  figures.showView(view, PRESETS[choice.preset]);
  figures.showScope(filter, got.lookup, view.tz);
  showCsvLinks(view, filter);
  if (allTime) showAllTime(allTime);
  if (got.scopedAllTime) figures.showScopedAllTime(got.scopedAllTime);
  if (summary) {
    figures.showWindow(summary);
    state.shownSequence = summary.last_sequence ?? null;
  }
  for (const one of shown) {
    if (got[one.metric]) {
      figures.showTimeseries(state.charts[one.metric], one, got[one.metric], view);
    }
  }
  if (got.granted && got.credits_spent) {
    figures.showCreditView(state.charts.credit, got.granted, got.credits_spent, view);
  }
  if (apps) figures.showTopApps(state.charts.topApps, apps, choice.topAppsBy);
  if (developers) {
    figures.showTopDevelopers(state.charts.topDevelopers, developers, choice.topDevelopersBy);
  }
  const problems = failures.length
    ? [`Some figures could not be loaded: ${failures.map((f) => f.message).join(" ")}`]
    : [];
  if (!chartsAvailable()) problems.push(NO_CHARTS);
  notice(problems.join(" "));
  state.loads += 1;
  const { from, to, tz, bucket } = view;
  // What the tests (and anyone debugging) read to know which figures are on screen.
  Object.assign(dashboard.dataset, {
    state: "ready",
    loads: String(state.loads),
    from,
    to,
    tz,
    bucket,
    filter: filterKey(filter),
  });
  if (!state.stream) listen();
}

/** The all-time figures and freshness, unless the stream already told newer ones. While
 * filtered, the tiles hold the app's or developer's own all-time figures instead. */
function showAllTime(summary) {
  if ((state.allTime?.last_sequence ?? -1) > (summary.last_sequence ?? 0)) return;
  state.allTime = summary;
  if (state.view) figures.showAllTime(summary, state.view.tz, !state.filter);
}

// --- narrowing to one app or developer -------------------------------------------------------

/** Show only `filter`'s figures (null: the whole store), remembered in the URL. `name`
 * labels the chip until the app's or developer's own answer arrives. */
function narrow(filter, name = null) {
  if (sameFilter(filter, state.filter)) return;
  state.filter = filter;
  window.history.pushState(null, "", urlWith(filter));
  const known = filter && name ? { title: name, username: name } : null;
  figures.showScope(filter, known, state.view?.tz ?? "UTC");
  load();
}

function onPick(event) {
  const button = event.target.closest("button.pick");
  if (!button) return;
  clearSearch();
  narrow({ kind: button.dataset.kind, id: Number(button.dataset.id) }, button.dataset.name);
  $("filter-remove").focus();
}

function onRemoveFilter() {
  narrow(null);
  $("app-search-input").focus();
}

function onHistory() {
  // Back or forward: the URL says what to show.
  const filter = filterFromUrl();
  if (sameFilter(filter, state.filter)) return;
  state.filter = filter;
  load();
}

// --- live ------------------------------------------------------------------------------------

function listen() {
  state.stream = openStream(access.token(), {
    onSummary(summary) {
      showAllTime(summary);
      if (summary.last_sequence !== state.shownSequence) refreshSoon();
    },
    onExpired: access.expired,
    onClosed() {
      // Refused (401 once the token expired, or a server error): a load finds out which
      // and shows it, and opens the stream again when all is well.
      state.stream = null;
      clearTimeout(state.timers.retry);
      state.timers.retry = setTimeout(load, STREAM_RETRY_MS);
    },
  });
}

function refreshSoon() {
  if (state.timers.refresh) return;
  state.timers.refresh = setTimeout(() => {
    delete state.timers.refresh;
    load();
  }, REFRESH_DELAY_MS);
}

async function onCsvClick(event) {
  event.preventDefault();
  const { view } = state;
  const token = access.token();
  if (!view || !token) return;
  try {
    const link = event.currentTarget;
    const filter = link.dataset.scoped === "yes" ? state.filter : null;
    await downloadCsv(token, view, link.dataset.metric, filter);
  } catch (error) {
    if (!access.refused(error)) notice(`The CSV could not be downloaded: ${error.message}`);
  }
}

// --- start -----------------------------------------------------------------------------------

function start() {
  state.filter = filterFromUrl();
  state.choice = loadChoice();
  fillZones(state.choice);
  showChoice(state.choice);
  wireControls(state.choice, choose);
  state.charts = figures.makeCharts();
  for (const link of document.querySelectorAll("a.csv")) link.addEventListener("click", onCsvClick);
  $("dashboard").addEventListener("click", onPick);
  $("filter-remove").addEventListener("click", onRemoveFilter);
  window.addEventListener("popstate", onHistory);
  wireSearch(
    access.token,
    (error) => {
      if (!access.refused(error)) notice(`The search failed: ${error.message}`);
    },
  );
  access.start();
}

start();
