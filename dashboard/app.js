/* The dashboard's shell: the log-in form, the navigation between pages
 * (#overview, #payments, ...), log-out. */
"use strict";

(() => {
  const $ = id => document.getElementById(id);
  const DEFAULT = "overview";
  let mfaToken = null; /* between the password and the code steps */

  /* The code step of a login with two-factor: the code field shown, the
   * password's fields locked. */
  function askCode(token) {
    mfaToken = token;
    $("login-code-row").hidden = false;
    $("login-email").readOnly = $("login-password").readOnly = true;
    $("login-code").required = true;
    $("login-code").value = "";
    $("login-code").focus();
  }

  function showLogin(message) {
    $("login-view").hidden = false;
    $("app-view").hidden = true;
    $("nav").hidden = $("who").hidden = $("logout").hidden = true;
    $("page").replaceChildren();
    $("login-error").textContent = message || "";
    $("login-error").hidden = !message;
    $("login-password").value = "";
    $("login-email").readOnly = $("login-password").readOnly = false;
    $("login-code-row").hidden = true;
    $("login-code").required = false;
    mfaToken = null;
  }

  function showApp(user) {
    $("login-view").hidden = true;
    $("app-view").hidden = false;
    $("nav").hidden = $("who").hidden = $("logout").hidden = false;
    $("who").textContent = user.email || user.full_name || "";
    route();
  }

  async function route() {
    if (!TzApi.user()) return;
    const name = location.hash.replace(/^#/, "") || DEFAULT;
    const page = Object.prototype.hasOwnProperty.call(TzPages, name) ? name : DEFAULT;
    for (const a of document.querySelectorAll("#nav a"))
      a.classList.toggle("active", a.dataset.page === page);
    TzUi.notice("");
    TzUi.notice("", "error");
    const box = document.createElement("div");
    box.id = "page-" + page;
    $("page").replaceChildren(box);
    document.body.dataset.page = page;
    delete document.body.dataset.loaded;
    try {
      await TzPages[page](box);
    } catch (e) {
      TzUi.notice(e.message, "error");
    }
    if (document.body.dataset.page === page) document.body.dataset.loaded = page;
  }

  async function submitLogin(ev) {
    ev.preventDefault();
    const button = $("login-submit");
    button.disabled = true;
    const codeStep = mfaToken !== null;
    try {
      if (codeStep) {
        showApp(await TzApi.loginCode(mfaToken, $("login-code").value));
      } else {
        const r = await TzApi.login($("login-email").value.trim(), $("login-password").value);
        if (r.mfa_token) askCode(r.mfa_token); else showApp(r);
      }
    } catch (e) {
      if (codeStep && e.status === 401 && e.problem.code === "invalid_code") {
        /* the same sign-in may try again, until the server burns it */
        $("login-error").textContent = "Wrong or already used code: try the next one.";
        $("login-error").hidden = false;
        $("login-code").value = "";
        return;
      }
      const msg = codeStep && e.status === 401 ? "The sign-in expired: log in again."
                : e.status === 401 ? "Wrong email or password."
                : e.status === 429 ? "Too many attempts: wait a minute and try again."
                : e.message;
      showLogin(msg);
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    TzApi.onSessionExpired(() => showLogin("Your session ended: log in again."));
    $("login-form").addEventListener("submit", submitLogin);
    $("logout").addEventListener("click", async () => {
      await TzApi.logout();
      showLogin("");
    });
    window.addEventListener("hashchange", route);
    showLogin("");
    $("login-email").focus();
  });
})();
