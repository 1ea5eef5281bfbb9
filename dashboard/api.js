/* The API client of the operator's dashboard.
 *
 * Tokens live in this closure only: never in localStorage, sessionStorage
 * or a cookie, so no other script, tab or later visitor of this browser
 * can read them; reloading the page ends the session.  A call answered
 * 401 is retried once after POST /auth/refresh (the refresh token
 * rotates); when that fails too, the dashboard goes back to the log-in
 * form. */
"use strict";

const TzApi = (() => {
  const meta = document.querySelector('meta[name="tipzed-api"]');
  const base = new URL((meta && meta.content) || "../api/v1", document.baseURI).href.replace(/\/$/, "");
  let session = null;             // {access, refresh, user}
  let onExpired = () => {};

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || "HTTP " + status);
      this.status = status;
      this.problem = problem || {};
    }
  }

  function url(path, params) {
    const u = new URL(base + path);
    for (const [k, v] of Object.entries(params || {}))
      if (v !== undefined && v !== null && v !== "") u.searchParams.set(k, v);
    return u.href;
  }

  async function send(method, path, opts, token) {
    const headers = Object.assign({Accept: "application/json"}, opts.headers || {});
    if (token) headers.Authorization = "Bearer " + token;
    let body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    return fetch(url(path, opts.params), {method, headers, body, credentials: "omit", cache: "no-store"});
  }

  async function problemOf(resp) {
    try { return await resp.json(); } catch (e) { return null; }
  }

  async function refresh() {
    if (!session || !session.refresh) return false;
    const resp = await send("POST", "/auth/refresh", {json: {refresh_token: session.refresh}});
    if (!resp.ok) return false;
    const j = await resp.json();
    session.access = j.access_token;
    session.refresh = j.refresh_token;
    return true;
  }

  /* One call with the session's token; the raw Response. */
  async function raw(method, path, opts = {}) {
    if (!session) throw new ApiError(401, {detail: "not logged in"});
    let resp = await send(method, path, opts, session.access);
    if (resp.status === 401 && await refresh())
      resp = await send(method, path, opts, session.access);
    if (resp.status === 401) {
      session = null;
      onExpired();
      throw new ApiError(401, await problemOf(resp));
    }
    return resp;
  }

  /* One call; the JSON answer, null for 204, an ApiError otherwise. */
  async function call(method, path, opts = {}) {
    const resp = await raw(method, path, opts);
    if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
    return resp.status === 204 ? null : resp.json();
  }

  /* The password step: the user once logged in, or {mfa_token} when the
   * account has two-factor on (every admin while TipzedAdminTOTP is On):
   * then loginCode() is the second step. */
  async function login(email, password) {
    const resp = await send("POST", "/auth/login", {json: {email, password}});
    if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
    const j = await resp.json();
    if (j.mfa_required) return {mfa_token: j.mfa_token};
    return startSession(j);
  }

  /* The second step: a 6-digit authenticator code, or a recovery code
   * (letters, with a dash) used once. */
  async function loginCode(mfaToken, code) {
    const c = code.replace(/\s+/g, "");
    const body = /^[0-9]{6}$/.test(c) ? {mfa_token: mfaToken, code: c}
                                      : {mfa_token: mfaToken, recovery_code: c};
    const resp = await send("POST", "/auth/login/totp", {json: body});
    if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
    return startSession(await resp.json());
  }

  async function startSession(j) {
    if (!j.user || j.user.role !== "admin") {
      /* Not an operator: end the session the API just opened. */
      await send("POST", "/auth/logout", {json: {refresh_token: j.refresh_token}}, j.access_token)
        .catch(() => {});
      throw new ApiError(403, {code: "not_admin",
        detail: "This account is not an administrator: the dashboard is for operators only."});
    }
    session = {access: j.access_token, refresh: j.refresh_token, user: j.user};
    return j.user;
  }

  async function logout() {
    const s = session;
    session = null;
    if (s) await send("POST", "/auth/logout", {json: {refresh_token: s.refresh}}, s.access).catch(() => {});
  }

  /* A key for the calls that move money (resolve): one per click. */
  function idempotencyKey() {
    if (window.crypto && crypto.randomUUID) return "dash-" + crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return "dash-" + Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
  }

  return {
    ApiError, call, raw, login, loginCode, logout, idempotencyKey,
    get: (path, params) => call("GET", path, {params}),
    post: (path, json, headers) => call("POST", path, {json, headers}),
    user: () => session && session.user,
    onSessionExpired: fn => { onExpired = fn; },
  };
})();

/* CSV: RFC 4180 quoting, and a leading =, +, - or @ of a text cell
 * prefixed with ' so that a spreadsheet does not run it as a formula. */
const TzCsv = (() => {
  function cell(v) {
    if (v === null || v === undefined) return "";
    let s = typeof v === "object" ? JSON.stringify(v) : String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function build(columns, rows) {
    const lines = [columns.map(c => cell(c.key)).join(",")];
    for (const r of rows) lines.push(columns.map(c => cell(c.csv ? c.csv(r) : r[c.key])).join(","));
    return lines.join("\r\n") + "\r\n";
  }
  /* Hands the browser a Blob to save: the data never leaves the page
   * through another request, so the token is never put in a URL. */
  function save(blob, name) {
    const href = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60000);
  }
  return {build, save};
})();
