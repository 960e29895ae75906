// Shared by /chat and /agent: the API key kept for this browser tab only, and API calls.
"use strict";
const KEY = "ticketbot-key";

export function takeKeyFromAddress() {
  // `ticketbot web` opens /chat#key=...: the fragment never reaches a server; keep it for
  // this tab and take it out of the address bar.
  const match = location.hash.match(/key=([^&]+)/);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
}

export const key = () => sessionStorage.getItem(KEY);
export const forget = () => sessionStorage.removeItem(KEY);
export const remember = (value) => sessionStorage.setItem(KEY, value.trim());

export async function api(method, path, body, headers = {}) {
  const response = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${key()}`, ...(body ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  let data = null;
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) data = await response.json();
  return { status: response.status, ok: response.ok, data, etag: response.headers.get("etag") };
}

export function setUpSignIn({ form, input, error, onSignedIn, roles }) {
  async function tryKey() {
    const me = await api("GET", "/me");
    if (!me.ok) {
      forget();
      error.textContent = "Clé refusée. / Key refused.";
      return false;
    }
    if (roles && !roles.includes(me.data.role)) {
      error.textContent = `Cette page est réservée aux agents (votre clé : ${me.data.role}). / Agents only.`;
      return false;
    }
    error.textContent = "";
    onSignedIn(me.data);
    return true;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    remember(input.value);
    input.value = "";
    await tryKey();
  });
  takeKeyFromAddress();
  if (key()) tryKey();
}
