/* The operator's pages about accounts (docs/accounts.md): Users, with
 * suspend and reinstate, and Wallets, with freeze and unfreeze.  Each
 * action asks for its reason, which the API keeps on the user and in the
 * audit log.  Loaded after pages.js: it adds the users page and gives the
 * wallets page its actions. */
"use strict";

(() => {
  const {el, status} = TzUi;
  const when = k => r => (r[k] || "").replace("T", " ").replace("Z", "");

  /* An action on one user: {reason} to POST path; nothing without a reason. */
  function accountAction(path, name, label, who, cls) {
    return {name, label, cls, done: `${who}: ${name} done`, run: async () => {
      const v = window.prompt(`Reason to ${name} ${who}:`);
      if (v === null || !v.trim()) return false;
      await TzApi.post(path, {reason: v.trim()});
    }};
  }

  function userActions(u) {
    if (u.status === "deleted") return [];
    return [u.status === "suspended"
      ? accountAction(`/admin/users/${u.id}/reinstate`, "reinstate", "Reinstate", u.email, "primary")
      : accountAction(`/admin/users/${u.id}/suspend`, "suspend", "Suspend", u.email, "danger")];
  }

  TzPages.users = container => {
    container.append(el("h1", {text: "Users"}), el("p", {class: "lead", text:
      "A suspended user cannot log in, pay, be tipped or be paid out; a frozen wallet gives " +
      "nothing but refunds and disputes."}));
    return new TzTable(container, {id: "users", title: "Users", path: "/admin/users",
      filters: [
        {name: "status", label: "Status", options: ["", "active", "suspended", "deleted"]},
        {name: "role", label: "Role", options: ["", "fan", "creator", "admin"]},
        {name: "frozen", label: "Wallet frozen", options: ["", "true", "false"]},
        {name: "q", label: "Email starts with", placeholder: "email"},
      ], columns: [
        {key: "created_at", label: "created", render: when("created_at")},
        {key: "email", label: "email"},
        {key: "full_name", label: "name"},
        {key: "role", label: "role"},
        {key: "status", label: "status", render: r => status(r.status)},
        {key: "status_reason", label: "reason"},
        {key: "wallet_frozen", label: "wallet", render: r => r.wallet_frozen ? status("frozen") : ""},
        {key: "wallet_freeze_reason", label: "freeze reason"},
      ], actions: userActions}).load({});
  };

  function walletActions(w) {
    const who = w.email || w.owner_id;
    return [w.frozen
      ? accountAction(`/admin/wallets/${w.owner_id}/unfreeze`, "unfreeze", "Unfreeze", who, "primary")
      : accountAction(`/admin/wallets/${w.owner_id}/freeze`, "freeze", "Freeze", who, "danger")];
  }

  TzPages.wallets = async container => {
    container.append(el("h1", {text: "Wallets"}));
    /* The fields are the API's: the columns follow its first row.  A freeze
     * holds every wallet of the owner, in every currency. */
    await new TzTable(container, {id: "wallets", title: "Wallets", path: "/admin/wallets", auto: true,
      columns: [{key: "id", label: "wallet"}], actions: walletActions}).load({});
  };
})();
