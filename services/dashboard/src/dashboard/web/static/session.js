// The signed-in user's token. It lives in sessionStorage: it survives a reload of the tab
// but not the tab itself, and no other site can read it (the page sends no cookies).

const KEY = "dashboard.token";

export function loadToken() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null; // storage disabled: sign in on every load
  }
}

export function saveToken(token) {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives as long as the page
  }
}

export function clearToken() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing stored
  }
}

/**
 * The token's claims ({sub, username, role, exp}), read without checking the signature:
 * only for showing who is signed in and when the session ends. The API checks the token.
 */
export function claims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = payload + "=".repeat((4 - (payload.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** Milliseconds until the token expires (negative once it has), or Infinity without `exp`. */
export function remainingMs(tokenClaims, nowMs = Date.now()) {
  return tokenClaims?.exp ? tokenClaims.exp * 1000 - nowMs : Infinity;
}
