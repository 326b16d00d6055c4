// The live stream: Server-Sent Events named `summary` carry the all-time summary, on
// connect and after every fold. EventSource cannot send headers, so the token rides in the
// query string (the API accepts it there for this endpoint only).

import { stats } from "./api.js";

const $ = (id) => document.getElementById(id);
const LABELS = { on: "live", connecting: "connecting…", off: "offline" };

export function setLive(mode) {
  const live = $("live");
  live.dataset.live = mode;
  live.textContent = LABELS[mode];
}

/**
 * Open the stream for `token`. `onSummary(summary)` gets every summary; `onExpired()` is
 * called when the server says the token has expired; `onClosed()` when the browser gave up
 * (the server refused the stream): the caller finds out why and opens it again.
 */
export function openStream(token, { onSummary, onExpired, onClosed }) {
  const source = new EventSource(stats.streamUrl(token));
  setLive("connecting");
  source.addEventListener("open", () => setLive("on"));
  source.addEventListener("summary", (event) => {
    let summary;
    try {
      summary = JSON.parse(event.data);
    } catch {
      return;
    }
    setLive("on");
    onSummary(summary);
  });
  source.addEventListener("unauthorized", () => {
    source.close();
    onExpired();
  });
  source.addEventListener("error", () => {
    if (source.readyState !== EventSource.CLOSED) {
      setLive("connecting"); // the browser reconnects by itself
      return;
    }
    setLive("off");
    onClosed();
  });
  return source;
}
