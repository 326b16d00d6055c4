// What the user chose to see (range, zone, buckets, rankings), remembered across visits in
// localStorage, and the controls that show and change it.

import { browserZone, dateInputValue } from "./time.js";

const CHOICE_KEY = "dashboard.choice";
const ZONES = [
  "UTC",
  "Europe/London",
  "Europe/Berlin",
  "Asia/Kolkata",
  "Asia/Kathmandu",
  "Asia/Tokyo",
  "Australia/Sydney",
  "America/New_York",
  "America/Los_Angeles",
];

const $ = (id) => document.getElementById(id);

function resolvedZone(name) {
  return new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone;
}

/** `zone` as the list spells it: browsers report ICU's names, which keep old spellings
 * (Asia/Katmandu, Asia/Calcutta) of zones the list names as the tz database does now. */
function listedName(zone) {
  try {
    const canonical = resolvedZone(zone);
    return ZONES.find((listed) => resolvedZone(listed) === canonical) ?? zone;
  } catch {
    return zone;
  }
}

function zoneIsKnown(zone) {
  try {
    resolvedZone(zone);
    return true;
  } catch {
    return false;
  }
}

export function loadChoice() {
  const defaults = {
    preset: "24h",
    customFrom: "",
    customTo: "",
    tz: listedName(browserZone()),
    bucket: "auto",
    topAppsBy: "purchases",
    topDevelopersBy: "revenue",
  };
  let choice = defaults;
  try {
    choice = { ...defaults, ...JSON.parse(localStorage.getItem(CHOICE_KEY) || "{}") };
  } catch {
    // unreadable or disabled storage: the defaults
  }
  if (!zoneIsKnown(choice.tz)) choice.tz = defaults.tz;
  return choice;
}

export function saveChoice(choice) {
  try {
    localStorage.setItem(CHOICE_KEY, JSON.stringify(choice));
  } catch {
    // storage disabled: the choice lasts as long as the page
  }
}

/** The zone list: this device's zone first, then the usual ones, and the chosen one. */
export function fillZones(choice) {
  const device = listedName(browserZone());
  const zones = [device, ...ZONES.filter((zone) => zone !== device)];
  if (!zones.includes(choice.tz)) zones.push(choice.tz);
  $("tz").replaceChildren(
    ...zones.map((zone) => {
      const option = document.createElement("option");
      option.value = zone;
      option.textContent = zone === device ? `${zone} (this device)` : zone;
      return option;
    }),
  );
}

export function showChoice(choice) {
  for (const radio of document.querySelectorAll('input[name="preset"]')) {
    radio.checked = radio.value === choice.preset;
  }
  $("custom-range").disabled = choice.preset !== "custom";
  $("from-date").value = choice.customFrom;
  $("to-date").value = choice.customTo;
  const today = dateInputValue(Date.now(), choice.tz);
  $("from-date").max = today;
  $("to-date").max = today;
  $("tz").value = choice.tz;
  $("bucket").value = choice.bucket;
  $("top-apps-by").value = choice.topAppsBy;
  $("top-developers-by").value = choice.topDevelopersBy;
}

/** Call `choose(changes)` whenever a control changes what to show. */
export function wireControls(choice, choose) {
  for (const radio of document.querySelectorAll('input[name="preset"]')) {
    radio.addEventListener("change", () => {
      const changes = { preset: radio.value };
      if (radio.value === "custom" && !choice.customFrom) {
        // The last seven days, today included, until other dates are applied.
        changes.customFrom = dateInputValue(Date.now(), choice.tz, 6);
        changes.customTo = dateInputValue(Date.now(), choice.tz);
      }
      choose(changes);
    });
  }
  $("controls").addEventListener("submit", (event) => {
    event.preventDefault();
    choose({ preset: "custom", customFrom: $("from-date").value, customTo: $("to-date").value });
  });
  const selects = { tz: "tz", bucket: "bucket", "top-apps-by": "topAppsBy" };
  selects["top-developers-by"] = "topDevelopersBy";
  for (const [id, key] of Object.entries(selects)) {
    $(id).addEventListener("change", (event) => choose({ [key]: event.target.value }));
  }
}
