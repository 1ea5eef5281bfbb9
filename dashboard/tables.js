/* Tables of the dashboard: filters, pages, row actions and CSV export.
 *
 * Pages: "Next" follows next_starting_after when the API gives one (keyset
 * pages stay right while rows are added), else offset + limit; "Previous"
 * goes back to the page before.  CSV: the API's own ?format=csv with the
 * same filters, fetched with the Authorization header and saved from a
 * Blob; an endpoint that answers JSON instead gets its pages walked and
 * written as CSV here, with the same quoting. */
"use strict";

const TzUi = (() => {
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const k of kids.flat()) if (k !== null && k !== undefined)
      e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  }

  /* Minor units in the currency's own decimals: 2500 ZMW is "ZMW 25.00". */
  function money(amount, currency) {
    if (amount === null || amount === undefined) return "";
    let digits = 2;
    try {
      digits = new Intl.NumberFormat("en", {style: "currency", currency}).resolvedOptions()
        .maximumFractionDigits;
    } catch (e) { /* unknown code: two decimals */ }
    const sign = amount < 0 ? "-" : "";
    const abs = Math.abs(amount), unit = 10 ** digits;
    const whole = Math.floor(abs / unit).toLocaleString("en");
    const frac = digits ? "." + String(abs % unit).padStart(digits, "0") : "";
    return `${currency} ${sign}${whole}${frac}`;
  }

  function status(s) { return el("span", {class: "status " + s, text: s}); }

  function notice(text, kind = "notice") {
    const n = document.getElementById(kind === "error" ? "app-error" : "app-notice");
    n.textContent = text || "";
    n.hidden = !text;
  }

  return {el, money, status, notice};
})();

class TzTable {
  constructor(container, spec) {
    this.spec = Object.assign({limit: 20, filters: [], fixed: {}}, spec);
    this.history = [];
    this.page = {};
    this.root = TzUi.el("div", {class: "table-block", "data-table": spec.id});
    container.append(this.root);
    this.build();
  }

  build() {
    const el = TzUi.el, s = this.spec;
    this.form = el("form", {class: "filters", onsubmit: e => { e.preventDefault(); this.load({}); }});
    for (const f of s.filters) {
      const input = f.options
        ? el("select", {name: f.name}, f.options.map(o => el("option", {value: o, text: o || "(any)"})))
        : el("input", {name: f.name, type: f.type || "text", placeholder: f.placeholder || ""});
      if (f.value) input.value = f.value;
      this.form.append(el("label", {}, f.label, input));
    }
    if (!s.source)
      this.form.append(el("label", {}, "Rows", el("select", {name: "limit"}, [10, 20, 50, 100].map(n =>
        el("option", {value: n, text: n, selected: n === s.limit})))));
    if (s.filters.length || !s.source) this.form.append(el("button", {type: "submit", text: "Apply"}));
    this.csvButton = el("button", {type: "button", class: "csv", text: "Export CSV",
                                   onclick: () => this.exportCsv()});
    this.info = el("span", {class: "count"});
    this.table = el("table", {id: "table-" + s.id});
    this.prev = el("button", {type: "button", text: "Previous", onclick: () => this.back()});
    this.next = el("button", {type: "button", text: "Next", onclick: () => this.forward()});
    this.pageInfo = el("span");
    this.root.append(this.form, el("div", {class: "toolbar"}, this.info, this.csvButton), this.table,
                     el("div", {class: "pager"}, this.prev, this.next, this.pageInfo));
  }

  filters() {
    const p = Object.assign({}, this.spec.fixed);
    for (const [k, v] of new FormData(this.form).entries()) if (v !== "") p[k] = v;
    return p;
  }

  /* cursor: {offset} or {starting_after}; {} is the first page. */
  async load(cursor, keepHistory) {
    if (!keepHistory) this.history = [];
    const params = Object.assign({limit: this.spec.limit}, this.filters(), cursor);
    this.root.dataset.state = "loading";
    try {
      const res = this.spec.source ? await this.spec.source(params) : await TzApi.get(this.spec.path, params);
      this.cursor = cursor;
      this.page = res;
      this.render(res.data || []);
      this.root.dataset.state = "ready";
    } catch (e) {
      this.root.dataset.state = "error";
      this.render([]);
      TzUi.notice(`${this.spec.title || this.spec.id}: ${e.message}`, "error");
    }
  }

  forward() {
    const p = this.page;
    if (!p.has_more && !p.next_starting_after) return;
    this.history.push(this.cursor);
    const next = p.next_starting_after ? {starting_after: p.next_starting_after}
                                       : {offset: (p.offset || 0) + (p.limit || this.spec.limit)};
    this.load(next, true);
  }

  back() {
    if (this.history.length) this.load(this.history.pop(), true);
  }

  /* Columns from the first row's fields, for an endpoint whose fields this
   * page does not know in advance; amounts shown in their currency. */
  static autoColumns(row) {
    const money = /(amount|balance|payouts|fee|net)$/;
    return Object.keys(row).map(k => ({key: k, label: k.replace(/_/g, " "),
      num: typeof row[k] === "number",
      render: r => typeof r[k] === "number" && r.currency && money.test(k) ? TzUi.money(r[k], r.currency)
                 : r[k] !== null && typeof r[k] === "object" ? JSON.stringify(r[k]) : r[k]}));
  }

  render(rows) {
    const el = TzUi.el, s = this.spec;
    if (s.auto && rows.length) s.columns = TzTable.autoColumns(rows[0]);
    const head = el("tr", {}, s.columns.map(c => el("th", {class: c.num ? "num" : null, text: c.label})));
    if (s.actions) head.append(el("th", {text: "Actions"}));
    const body = rows.map(r => {
      const tr = el("tr", {"data-id": r.id || null}, s.columns.map(c => {
        const v = c.render ? c.render(r) : r[c.key];
        return el("td", {class: c.num ? "num" : c.mono ? "mono" : null}, v === null ? "" : v);
      }));
      if (s.actions) tr.append(el("td", {class: "actions"}, s.actions(r).map(a =>
        el("button", {type: "button", class: a.cls, "data-action": a.name, text: a.label,
                      onclick: ev => this.act(ev.target, a)}))));
      return tr;
    });
    if (!rows.length)
      body.push(el("tr", {}, el("td", {class: "empty", colspan: s.columns.length + (s.actions ? 1 : 0),
                                       text: "Nothing to show."})));
    this.table.replaceChildren(el("thead", {}, head), el("tbody", {}, body));
    const p = this.page || {};
    this.prev.disabled = !this.history.length;
    this.next.disabled = !(p.has_more || p.next_starting_after);
    this.info.textContent = rows.length ? `${rows.length} row(s)` : "";
    this.pageInfo.textContent = this.history.length ? `page ${this.history.length + 1}` : "";
  }

  async act(button, action) {
    button.disabled = true;
    try {
      const done = await action.run();
      if (done !== false) {
        TzUi.notice(action.done || `${action.label}: done`);
        await this.load(this.cursor || {}, true);
      } else button.disabled = false;
    } catch (e) {
      TzUi.notice(`${action.label}: ${e.message}`, "error");
      button.disabled = false;
    }
  }

  async exportCsv() {
    const s = this.spec, name = `${s.csvName || s.id}-${new Date().toISOString().slice(0, 10)}.csv`;
    this.root.dataset.export = "running";
    try {
      /* a list endpoint exports itself (format=csv, streamed, every row
       * under the filters); a table read from a report is built here */
      const blob = s.source ? new Blob([TzCsv.build(s.columns, await this.allRows())], {type: "text/csv"})
                            : await this.serverCsv();
      TzCsv.save(blob, name);
      this.root.dataset.export = "done";
    } catch (e) {
      this.root.dataset.export = "error";
      TzUi.notice(`CSV export: ${e.message}`, "error");
    }
  }

  /* The API's CSV of every row under the filters. */
  async serverCsv() {
    const params = Object.assign(this.filters(), {format: "csv"});
    delete params.limit;  // every row under the filters, not one page's
    const resp = await TzApi.raw("GET", this.spec.path, {params, headers: {Accept: "text/csv"}});
    const type = resp.headers.get("Content-Type") || "";
    if (resp.ok && type.startsWith("text/csv")) return resp.blob();
    throw new Error(`the server answered ${resp.status} ${type}`);
  }

  /* The rows of a table read from a report (reconciliation). */
  async allRows() {
    return (await this.spec.source(this.filters())).data || [];
  }
}
