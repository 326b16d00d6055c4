// Chart.js wrappers. Chart.js is loaded by a classic script before the modules run; when it
// could not be loaded (npm ci not run: the server answers 503) every function here is a
// no-op and the page shows its tables alone.

const COLORS = {
  purchases: "#2563eb",
  credits_spent: "#15803d",
  apps_created: "#9333ea",
  apps: "#0e7490",
  developers: "#c2410c",
  credits_granted: "#b45309",
};

export function chartsAvailable() {
  return typeof window.Chart === "function";
}

function common() {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false, // live refreshes redraw in place; screenshots show the final state
    plugins: { legend: { display: false } },
  };
}

/** A line chart of one metric over time on a category axis (labels made by the page). */
export function lineChart(canvas, metric, label) {
  if (!chartsAvailable()) return null;
  return new window.Chart(canvas, {
    type: "line",
    data: {
      labels: [],
      datasets: [
        {
          label,
          data: [],
          times: [],
          borderColor: COLORS[metric],
          backgroundColor: `${COLORS[metric]}22`,
          fill: true,
          tension: 0, // straight lines: a count per bucket has nothing between buckets
          pointRadius: 0,
          pointHitRadius: 8,
          borderWidth: 2,
        },
      ],
    },
    options: {
      ...common(),
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
}

/** Replace a line chart's points: `times` are the bucket starts (ISO), kept beside the labels. */
export function showSeries(chart, labels, values, times) {
  if (!chart) return;
  chart.data.labels = labels;
  chart.data.datasets[0].data = values;
  chart.data.datasets[0].times = times;
  chart.update();
}

/** A horizontal bar chart for a top-N list. */
export function barChart(canvas, kind) {
  if (!chartsAvailable()) return null;
  return new window.Chart(canvas, {
    type: "bar",
    data: { labels: [], datasets: [{ label: "", data: [], backgroundColor: COLORS[kind] }] },
    options: {
      ...common(),
      indexAxis: "y",
      scales: {
        x: { beginAtZero: true, ticks: { precision: 0 } },
        y: { ticks: { autoSkip: false } },
      },
    },
  });
}

export function showBars(chart, label, labels, values) {
  if (!chart) return;
  chart.data.labels = labels;
  chart.data.datasets[0].label = label;
  chart.data.datasets[0].data = values;
  chart.update();
}

/** Two line charts in one: credits granted and credits spent per bucket, with a legend. */
export function creditChart(canvas) {
  if (!chartsAvailable()) return null;
  const line = (label, metric) => ({
    label,
    data: [],
    borderColor: COLORS[metric],
    backgroundColor: `${COLORS[metric]}22`,
    tension: 0,
    pointRadius: 0,
    pointHitRadius: 8,
    borderWidth: 2,
  });
  const options = common();
  options.plugins = { legend: { display: true, position: "bottom" } };
  return new window.Chart(canvas, {
    type: "line",
    data: {
      labels: [],
      times: [],
      datasets: [line("Granted", "credits_granted"), line("Spent", "credits_spent")],
    },
    options: {
      ...options,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
    },
  });
}

/** Replace the credit chart's points: granted and spent per bucket starting at `times`. */
export function showCredit(chart, labels, granted, spent, times) {
  if (!chart) return;
  chart.data.labels = labels;
  chart.data.times = times;
  chart.data.datasets[0].data = granted;
  chart.data.datasets[1].data = spent;
  chart.update();
}
