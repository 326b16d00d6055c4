// Who is looking at the page: signing in and out, the panel each case shows (sign-in, not
// allowed, the dashboard), and the session's expiry.

import { signIn } from "./api.js";
import { claims, clearToken, loadToken, remainingMs, saveToken } from "./session.js";

const ALLOWED_ROLES = ["management", "admin"];
const EXPIRED = "Your session has expired. Sign in again.";

const $ = (id) => document.getElementById(id);

/** Signing in and out of the page. `onEnter()` runs once a session starts (the dashboard
 * shows), `onLeave()` once it ends (signed out, expired or refused): it forgets the
 * session's work in progress. */
export function makeAccess({ onEnter, onLeave }) {
  const session = { token: null, claims: null, expiry: null };

  function showOnly(id) {
    for (const panel of ["sign-in", "forbidden", "dashboard"]) $(panel).hidden = panel !== id;
    $("account").hidden = id === "sign-in";
  }

  function stop() {
    onLeave();
    clearTimeout(session.expiry);
    session.expiry = null;
    session.token = null;
  }

  function showSignIn(reason = "") {
    stop();
    clearToken();
    $("sign-in-reason").textContent = reason;
    $("sign-in-reason").hidden = !reason;
    $("sign-in-error").hidden = true;
    showOnly("sign-in");
    $("username").focus();
  }

  function showForbidden(error) {
    stop();
    const who = session.claims?.username ?? "This account";
    const role = session.claims?.role ? ` (role ${session.claims.role})` : "";
    $("forbidden-message").textContent =
      `${who}${role} is not allowed to see the management dashboard: it is open to the ` +
      `${ALLOWED_ROLES.join(" and ")} roles only. ${error?.message ?? ""}`.trim();
    showOnly("forbidden");
  }

  /** The answer to a refused request: sign in again (401), not allowed (403); else false. */
  function refused(error) {
    if (error?.status === 401) showSignIn(EXPIRED);
    else if (error?.status === 403) showForbidden(error);
    else return false;
    return true;
  }

  async function onSignIn(event) {
    event.preventDefault();
    const username = $("username").value.trim();
    const password = $("password").value;
    const error = $("sign-in-error");
    error.hidden = true;
    if (!username || !password) {
      error.textContent = "Enter your username and password.";
      error.hidden = false;
      return;
    }
    $("sign-in-button").disabled = true;
    try {
      const answer = await signIn(username, password);
      $("password").value = "";
      saveToken(answer.access_token);
      enter(answer.access_token);
    } catch (failure) {
      error.textContent =
        failure.status === 401
          ? "Wrong username or password."
          : `Could not sign in: ${failure.message}`;
      error.hidden = false;
    } finally {
      $("sign-in-button").disabled = false;
    }
  }

  function enter(token) {
    session.token = token;
    session.claims = claims(token);
    const name = session.claims?.username ?? "signed in";
    $("account-name").textContent = session.claims?.role
      ? `${name} (${session.claims.role})`
      : name;
    const left = remainingMs(session.claims);
    if (Number.isFinite(left)) {
      // setTimeout takes at most 2^31 - 1 ms; a longer session is checked by the API anyway.
      const delay = Math.max(0, Math.min(left, 2 ** 31 - 1));
      session.expiry = setTimeout(() => showSignIn(EXPIRED), delay);
    }
    showOnly("dashboard");
    onEnter();
  }

  function signOut() {
    showSignIn();
    session.claims = null;
  }

  /** Wire the forms and buttons, then go on with the session kept from before, if any. */
  function start() {
    $("sign-in-form").addEventListener("submit", onSignIn);
    $("sign-out").addEventListener("click", signOut);
    $("forbidden-sign-out").addEventListener("click", signOut);
    const token = loadToken();
    if (token && remainingMs(claims(token)) > 0) enter(token);
    else showSignIn();
  }

  return {
    /** The session's bearer token; null when signed out. */
    token: () => session.token,
    expired: () => showSignIn(EXPIRED),
    refused,
    start,
  };
}
