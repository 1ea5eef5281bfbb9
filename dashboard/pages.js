/* The pages of the dashboard: each draws itself into the container it is
 * given, from the JSON API (docs/dashboard.md lists the calls). */
"use strict";

const TzPages = (() => {
  const {el, money, status, notice} = TzUi;
  const when = k => r => (r[k] || "").replace("T", " ").replace("Z", "");
  const short = k => r => r[k] ? el("span", {title: r[k], text: r[k].slice(0, 8)}) : "";
  const amount = k => ({key: k, label: k.replace(/_/g, " "), num: true,
                        render: r => money(r[k], r.currency)});
  const PAYMENT_STATES = ["", "pending", "succeeded", "failed", "expired", "review", "refund_pending",
                          "partially_refunded", "refunded"];
  const PAYOUT_STATES = ["", "pending", "approved", "processing", "completed", "rejected", "failed",
                         "cancelled"];
  let charts = [];

  const paymentColumns = [
    {key: "created_at", label: "created", render: when("created_at")},
    {key: "id", label: "id", mono: true, render: short("id")},
    {key: "status", label: "status", render: r => status(r.status)},
    amount("amount"), amount("fee"), amount("net"),
    {key: "currency", label: "currency"},
    {key: "provider", label: "provider"},
    {key: "purpose", label: "purpose"},
    {key: "creator_id", label: "creator", mono: true, render: short("creator_id")},
    {key: "fan_id", label: "payer", mono: true, render: short("fan_id")},
    {key: "message", label: "message"},
  ];

  function heading(container, title, lead) {
    container.append(el("h1", {text: title}));
    if (lead) container.append(el("p", {class: "lead", text: lead}));
  }

  /* ------------------------------------------------------------ overview */

  function tile(id, label, value, text) {
    return el("div", {class: "tile", id: "tile-" + id, "data-value": JSON.stringify(value)},
              el("div", {class: "label", text: label}), el("div", {class: "value", text}));
  }

  function byCurrency(obj) {
    const keys = Object.keys(obj || {}).sort();
    return keys.length ? keys.map(c => money(obj[c], c)).join(" · ") : "none";
  }

  function percent(rate) { return rate === null || rate === undefined ? "n/a" : (rate * 100).toFixed(1) + "%"; }

  function tiles(t) {
    return el("div", {class: "tiles", id: "overview-tiles"},
      tile("volume", "Volume (succeeded, gross)", t.volume, byCurrency(t.volume)),
      tile("fees", "Platform fees", t.fees, byCurrency(t.fees)),
      tile("success-rate", "Success rate", t.success_rate, percent(t.success_rate)),
      tile("payments", "Payments", t.payments.total, String(t.payments.total)),
      tile("subscriptions", "Active subscriptions (last day)", t.active_subscriptions,
           String(t.active_subscriptions)),
      tile("review", "Open review items (last day)", t.open_review_items, String(t.open_review_items)));
  }

  function chartBox(id, title) {
    const canvas = el("canvas", {id: "chart-" + id});
    return [el("div", {class: "chart"}, el("h3", {text: title}), el("div", {class: "canvas-box"}, canvas)), canvas];
  }

  function currencies(days, key) {
    return [...new Set(days.flatMap(d => Object.keys(d[key])))].sort();
  }

  /* Money per currency in major units (a chart shows sizes, the tiles and
   * the table show exact amounts). */
  function moneySeries(days, key) {
    return currencies(days, key).map(c => {
      const digits = money(1, c).split(".")[1];
      const unit = 10 ** (digits ? digits.length : 0);
      return {label: `${key} ${c}`, data: days.map(d => (d[key][c] || 0) / unit)};
    });
  }

  function drawCharts(box, days) {
    charts.forEach(c => c.destroy());
    charts = [];
    if (typeof Chart === "undefined") {
      box.append(el("p", {class: "notice", text: "Charts are unavailable: vendor/chart.js did not load (Debian package libjs-chart.js)."}));
      return;
    }
    const labels = days.map(d => d.date);
    const opts = extra => Object.assign({responsive: true, maintainAspectRatio: false, animation: false,
                                         plugins: {legend: {position: "bottom"}}}, extra || {});
    const specs = [
      ["volume", "Volume per day", "line", moneySeries(days, "volume"), opts()],
      ["fees", "Fees per day", "line", moneySeries(days, "fees"), opts()],
      ["outcomes", "Payments by outcome", "bar",
       ["succeeded", "failed", "expired", "review", "pending"].map(k =>
         ({label: k, data: days.map(d => d.payments[k])})),
       opts({scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true}}})],
      ["success-rate", "Success rate (%)", "line",
       [{label: "success rate", data: days.map(d => d.success_rate === null ? null : d.success_rate * 100)}],
       opts({scales: {y: {min: 0, max: 100}}})],
      ["levels", "Active subscriptions and open review items", "line",
       [{label: "active subscriptions", data: days.map(d => d.active_subscriptions)},
        {label: "open review items", data: days.map(d => d.open_review_items)}],
       opts({scales: {y: {beginAtZero: true}}})],
    ];
    const palette = ["#1f6feb", "#1a7f37", "#cf222e", "#9a6700", "#8250df", "#57606a"];
    for (const [id, title, type, datasets, options] of specs) {
      datasets.forEach((d, i) => Object.assign(d, {borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length], pointRadius: 2, spanGaps: true}));
      const [wrap, canvas] = chartBox(id, title);
      box.append(wrap);
      charts.push(new Chart(canvas, {type, data: {labels, datasets}, options}));
    }
  }

  async function overview(container) {
    heading(container, "Overview");
    const form = el("form", {class: "filters", id: "overview-range"},
      el("label", {}, "From", el("input", {type: "date", name: "from", id: "overview-from"})),
      el("label", {}, "To", el("input", {type: "date", name: "to", id: "overview-to"})),
      el("button", {type: "submit", text: "Show"}));
    const body = el("div", {id: "overview-body"});
    container.append(form, body);
    const draw = async () => {
      const params = Object.fromEntries([...new FormData(form).entries()].filter(([, v]) => v));
      body.dataset.state = "loading";
      try {
        const o = await TzApi.get("/admin/overview", params);
        form.elements.from.value = o.from;
        form.elements.to.value = o.to;
        const chartsBox = el("div", {class: "charts"});
        body.replaceChildren(tiles(o.totals), chartsBox, el("h2", {text: "Per day"}));
        drawCharts(chartsBox, o.days);
        await new TzTable(body, {id: "overview-days", title: "Per day", csvName: "overview",
          source: async () => ({data: o.days.slice().reverse()}), limit: 400, columns: [
            {key: "date", label: "date"},
            {key: "volume", label: "volume", render: d => byCurrency(d.volume)},
            {key: "fees", label: "fees", render: d => byCurrency(d.fees)},
            ...["succeeded", "failed", "expired", "review", "pending", "total"].map(k =>
              ({key: k, label: k, num: true, render: d => String(d.payments[k]), csv: d => d.payments[k]})),
            {key: "success_rate", label: "success rate", num: true, render: d => percent(d.success_rate)},
            {key: "active_subscriptions", label: "active subscriptions", num: true},
            {key: "open_review_items", label: "open review items", num: true},
          ]}).load({});
        body.dataset.state = "ready";
      } catch (e) {
        body.dataset.state = "error";
        notice(`Overview: ${e.message}`, "error");
      }
    };
    form.addEventListener("submit", e => { e.preventDefault(); draw(); });
    await draw();
  }

  /* ------------------------------------------------------------ payments */

  function payments(container) {
    heading(container, "Payments");
    return new TzTable(container, {id: "payments", title: "Payments", path: "/admin/transactions",
      filters: [
        {name: "status", label: "Status", options: PAYMENT_STATES},
        {name: "creator_id", label: "Creator id", placeholder: "uuid"},
        {name: "fan_id", label: "Payer id", placeholder: "uuid"},
        {name: "from", label: "From", type: "date"},
        {name: "to", label: "To (exclusive)", type: "date"},
      ], columns: paymentColumns}).load({});
  }

  /* ------------------------------------------------------------ payouts */

  function ask(question) {
    const v = window.prompt(question);
    return v === null ? null : v.trim();
  }

  function payoutAction(row, name, label, bodyOf, cls) {
    return {name, label, cls, done: `Payout ${row.id.slice(0, 8)}: ${name} done`, run: async () => {
      const body = bodyOf ? bodyOf() : {};
      if (body === null) return false;
      await TzApi.post(`/admin/payouts/${row.id}/${name}`, body);
    }};
  }

  function payoutActions(r) {
    const reason = what => () => {
      const v = ask(`Reason to ${what} payout ${r.id.slice(0, 8)}:`);
      return v ? {reason: v} : null;
    };
    const ref = () => {
      const v = ask("Provider reference (optional):");
      return v === null ? null : v ? {provider_reference: v} : {};
    };
    switch (r.status) {
      case "pending": return [payoutAction(r, "approve", "Approve", null, "primary"),
                              payoutAction(r, "reject", "Reject", reason("reject"), "danger")];
      case "approved": return [payoutAction(r, "process", "Process", null, "primary"),
                               payoutAction(r, "reject", "Reject", reason("reject"), "danger")];
      case "processing": return [payoutAction(r, "complete", "Complete", ref, "primary"),
                                 payoutAction(r, "fail", "Fail", reason("fail"), "danger")];
      default: return [];
    }
  }

  function payouts(container) {
    heading(container, "Payouts queue");
    return new TzTable(container, {id: "payouts", title: "Payouts", path: "/admin/payouts",
      filters: [{name: "status", label: "Status", options: PAYOUT_STATES, value: "pending"}],
      columns: [
        {key: "created_at", label: "requested", render: when("created_at")},
        {key: "id", label: "id", mono: true, render: short("id")},
        {key: "creator_id", label: "creator", mono: true, render: short("creator_id")},
        amount("amount"),
        {key: "currency", label: "currency"},
        {key: "status", label: "status", render: r => status(r.status)},
        {key: "account_name", label: "account name"},
        {key: "bank_account", label: "bank account"},
        {key: "note", label: "note", render: r => r.note || r.reason || ""},
        {key: "provider_reference", label: "reference"},
      ], actions: payoutActions}).load({});
  }

  /* ------------------------------------------------------------ review */

  function resolveAction(r, action, label, cls) {
    return {name: action, label, cls, done: `Payment ${r.id.slice(0, 8)}: ${action}`, run: async () => {
      const reason = ask(`Reason to ${action} payment ${r.id.slice(0, 8)}:`);
      if (!reason) return false;
      await TzApi.call("POST", `/admin/payments/${r.id}/resolve`, {json: {action, reason},
        headers: {"X-Idempotency-Key": TzApi.idempotencyKey()}});
    }};
  }

  function review(container) {
    heading(container, "Review queue",
      "Payments the providers' reports contradicted: credit them when the money was taken, fail them when it was not. " +
      "Why each is here: the open items of the Reconciliation page.");
    return new TzTable(container, {id: "review", title: "Review queue", path: "/admin/transactions",
      fixed: {status: "review"}, filters: [
        {name: "from", label: "From", type: "date"}, {name: "to", label: "To (exclusive)", type: "date"}],
      columns: paymentColumns.filter(c => c.key !== "status"),
      actions: r => [resolveAction(r, "credit", "Credit", "primary"), resolveAction(r, "fail", "Fail", "danger")],
    }).load({});
  }

  /* ------------------------------------------------------------ wallets */

  async function wallets(container) {
    heading(container, "Wallets");
    /* The fields are the API's: the columns follow its first row. */
    await new TzTable(container, {id: "wallets", title: "Wallets", path: "/admin/wallets", auto: true,
      columns: [{key: "id", label: "wallet"}]}).load({});
  }

  /* ------------------------------------------------------------ webhooks */

  const deliveryColumns = [
    {key: "created_at", label: "created", render: when("created_at")},
    {key: "id", label: "id", mono: true, render: short("id")},
    {key: "endpoint_id", label: "endpoint", mono: true, render: short("endpoint_id")},
    {key: "event_type", label: "event"},
    {key: "status", label: "status", render: r => status(r.status)},
    {key: "attempts", label: "attempts", num: true},
    {key: "last_status", label: "last HTTP status", num: true},
    {key: "last_error", label: "last error"},
    {key: "delivered_at", label: "delivered", render: when("delivered_at")},
  ];

  const resend = r => r.status === "succeeded" ? [] : [{name: "resend", label: "Resend", run: () =>
    TzApi.post(`/webhook-deliveries/${r.id}/resend`, {})}];

  async function webhooks(container) {
    heading(container, "Webhook deliveries");
    const filters = [{name: "status", label: "Status", options: ["", "pending", "succeeded", "failed"]}];
    await new TzTable(container, {id: "deliveries", title: "Deliveries", path: "/webhook-deliveries",
      filters, columns: deliveryColumns, actions: resend}).load({});
  }

  /* ------------------------------------------------------------ reconciliation */

  async function reconciliation(container) {
    heading(container, "Reconciliation");
    const rep = await TzApi.get("/admin/reconciliation");
    container.append(el("p", {id: "reconciliation-verdict"},
      status(rep.ok ? "ok" : "mismatch"), ` checked at ${when("checked_at")(rep)}`));
    container.append(el("h2", {text: "Open items"}));
    const items = new TzTable(container, {id: "open-items", title: "Open items", csvName: "open-items",
      source: async () => ({data: rep.open_items || []}), limit: 1000, columns: [
        {key: "kind", label: "kind"}, {key: "id", label: "id", mono: true},
        {key: "age_seconds", label: "age", num: true,
         render: r => `${Math.floor(r.age_seconds / 3600)} h ${Math.floor(r.age_seconds % 3600 / 60)} min`},
        {key: "detail", label: "detail"},
      ]}).load({});
    container.append(el("h2", {text: "Checks"}));
    const checks = checkTable(container, "checks", "Checks", rep.checks);
    /* What the providers paid out against what the ledger holds, from the
     * settlement reports imported with tipzedctl; its verdict is its own. */
    const st = rep.settlement || {ok: true, imports: [], checks: []};
    container.append(el("h2", {text: "Settlement"}));
    container.append(el("p", {id: "settlement-verdict"}, status(st.ok ? "ok" : "mismatch"),
      ` ${st.imports.length} report${st.imports.length === 1 ? "" : "s"} imported`));
    const imports = new TzTable(container, {id: "settlement-imports", title: "Imported reports",
      csvName: "settlement-imports", source: async () => ({data: st.imports}), limit: 1000, columns: [
        {key: "provider", label: "provider"}, {key: "file_name", label: "file"},
        {key: "imported_at", label: "imported", render: when("imported_at")},
        {key: "lines", label: "lines", num: true}, {key: "new", label: "new", num: true},
        {key: "conflicting", label: "conflicting", num: true},
        {key: "unsettled_days", label: "unsettled after (days)", num: true},
        {key: "sha256", label: "SHA-256", mono: true},
      ]}).load({});
    const settled = checkTable(container, "settlement-checks", "Settlement checks", st.checks);
    await Promise.all([checks, items, imports, settled]);
  }

  /* A report's checks: each one's name, verdict and first mismatches. */
  function checkTable(container, id, title, rows) {
    return new TzTable(container, {id, title, csvName: `reconciliation-${id}`,
      source: async () => ({data: rows || []}), limit: 1000, columns: [
        {key: "name", label: "check"},
        {key: "ok", label: "result", render: r => status(r.ok ? "ok" : "mismatch"), csv: r => r.ok},
        {key: "mismatches", label: "mismatches", render: r => r.mismatches.length === 0 ? "0"
          : `${r.mismatches.length}: ` + r.mismatches.slice(0, 3).map(m => `${m.id} (${m.detail})`).join(", ") +
            (r.mismatches.length > 3 ? ", ..." : ""),
         csv: r => r.mismatches.map(m => `${m.id}: ${m.detail}`).join("; ")},
      ]}).load({});
  }

  return {overview, payments, payouts, review, wallets, webhooks, reconciliation};
})();
