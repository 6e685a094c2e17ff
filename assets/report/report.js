// Renders a backtest report from the JSON in #report-data: the header, the
// equity and drawdown charts, a price chart per symbol with its trades, the
// metrics, the trades table (sortable, filterable, paged), the monthly
// returns grid, the contributions and the log. Plain DOM and the vendored
// lightweight-charts; nothing is fetched.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const app = document.getElementById("app");
  const LWC = window.LightweightCharts;

  const el = window.el;

  function section(title, ...children) {
    return el("section", { class: "panel" }, el("h2", {}, title), ...children);
  }

  function text(v) {
    if (v === null || v === undefined) return "n/a";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function date(seconds) {
    return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/:00\.000Z$|\.000Z$/, "").replace(/ 00:00$/, "");
  }

  function pct(x) {
    return x === null || x === undefined ? "" : x.toFixed(2);
  }

  // ---- header -------------------------------------------------------------
  function header() {
    const h = data.header;
    const s = h.strategy || {};
    const rows = [
      ["strategy", `${text(s.name)} (${text(s.runtime)})`],
      ["content hash", text(s.content_hash)],
      ["data", (h.data || []).map((d) => `${d.symbol}: ${d.source} (${String(d.content_hash).slice(0, 12)})`).join("; ")],
      ["range", `${text(h.first)} to ${text(h.last)}`],
      ["window", `${text(h.window.start)} to ${text(h.window.end)}`],
      ["interval", text(h.interval)],
      ["benchmark", text(h.benchmark && h.benchmark.symbol)],
      ["parameters", text(h.params)],
      ["broker", text(h.broker)],
      ["sandbox limits", text(h.limits)],
      ["fingerprint", text(h.fingerprint)],
      ["engine", text(h.engine_version)],
    ];
    return el("header", {},
      el("h1", {}, data.title),
      el("table", { class: "kv", id: "header" }, rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))));
  }

  // ---- charts -------------------------------------------------------------
  const charts = [];
  function chart(container, height) {
    container.style.height = `${height}px`;
    const c = LWC.createChart(container, {
      autoSize: true,
      layout: { attributionLogo: true, background: { color: "#ffffff" }, textColor: "#263238" },
      timeScale: { timeVisible: true },
      rightPriceScale: { borderVisible: false },
    });
    charts.push(c);
    return c;
  }

  function equityPanel() {
    const e = data.equity;
    const box = el("div", { class: "chart", id: "equity-chart" });
    const ddBox = el("div", { class: "chart small", id: "drawdown-chart" });
    const panel = section("Equity", box, el("h3", {}, "Drawdown (%)"), ddBox,
      el("p", { class: "note" }, `${e.points} steps, ${e.time.length} drawn (each interval's extremes and every trade kept).`));
    requestAnimationFrame(() => {
      const c = chart(box, 300);
      const equity = c.addSeries(LWC.LineSeries, { color: "#1565c0", lineWidth: 2, title: "equity" });
      equity.setData(e.time.map((t, i) => ({ time: t, value: e.equity[i] })));
      if (e.benchmark) {
        const b = c.addSeries(LWC.LineSeries, { color: "#9e9e9e", lineWidth: 1, title: "benchmark" });
        b.setData(e.time.map((t, i) => ({ time: t, value: e.benchmark[i] })).filter((p) => p.value !== null));
      }
      c.timeScale().fitContent();
      const d = chart(ddBox, 140);
      const dd = d.addSeries(LWC.AreaSeries, { lineColor: "#c62828", topColor: "rgba(198,40,40,0.05)", bottomColor: "rgba(198,40,40,0.4)", invertFilledArea: true });
      dd.setData(e.time.map((t, i) => ({ time: t, value: e.drawdown[i] })));
      d.timeScale().fitContent();
    });
    return panel;
  }

  function pricePanels() {
    return data.symbols.map((s) => {
      const box = el("div", { class: "chart", id: `price-${s.symbol}` });
      const tip = el("div", { class: "tooltip" });
      const holder = el("div", { class: "chart-box" }, box, tip);
      const notes = [];
      if (s.merged) notes.push(`${s.bars} bars drawn as ${s.candles.length} candles (each keeps its interval's open, high, low and close).`);
      if (s.markers_shown < s.trades) notes.push(`Markers for the first ${s.markers_shown} of ${s.trades} trades; the table has them all.`);
      const panel = section(`${s.symbol}: price and trades`, holder, notes.map((n) => el("p", { class: "note" }, n)));
      requestAnimationFrame(() => {
        const c = chart(box, 320);
        const candles = c.addSeries(LWC.CandlestickSeries, {});
        candles.setData(s.candles.map(([time, open, high, low, close]) => ({ time, open, high, low, close })));
        LWC.createSeriesMarkers(candles, s.markers.map(({ hover, ...m }) => m));
        // Each marker's trade (side, size, price, exit reason) shows on hover.
        const hovers = new Map();
        for (const m of s.markers) hovers.set(m.time, (hovers.get(m.time) || []).concat(m.hover));
        c.subscribeCrosshairMove((param) => {
          const lines = param.time !== undefined && hovers.get(param.time);
          if (!lines || !param.point) { tip.style.display = "none"; return; }
          tip.textContent = lines.join("\n");
          tip.style.display = "block";
          tip.style.left = `${Math.min(param.point.x + 12, box.clientWidth - 260)}px`;
          tip.style.top = `${param.point.y + 12}px`;
        });
        c.timeScale().fitContent();
      });
      return panel;
    });
  }

  // ---- metrics ------------------------------------------------------------
  function metricsPanel() {
    return section("Metrics", el("div", { class: "groups", id: "metrics" }, data.metric_groups.map((g) =>
      el("table", { class: "kv" }, el("caption", {}, g.name), g.rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))))));
  }

  // ---- trades -------------------------------------------------------------
  function tradesPanel() {
    const cols = data.trades.columns;
    const t = data.trades;
    // Rows come compact: symbol, side and exit reason as indices into their lists.
    const all = t.rows.map((r) => [t.symbols[r[0]], t.sides[r[1]], ...r.slice(2, 11), t.exit_reasons[r[11]]]);
    const pageSize = 50;
    let sortBy = null, descending = false, page = 0;
    const symbolIdx = cols.indexOf("symbol"), reasonIdx = cols.indexOf("exit_reason");
    const uniq = (i) => [...new Set(all.map((r) => r[i]))].sort();
    const symbolSel = el("select", { id: "filter-symbol" }, el("option", { value: "" }, "all symbols"), uniq(symbolIdx).map((s) => el("option", { value: s }, s)));
    const reasonSel = el("select", { id: "filter-reason" }, el("option", { value: "" }, "all exit reasons"), uniq(reasonIdx).map((s) => el("option", { value: s }, s)));
    const body = el("tbody");
    const status = el("span", { class: "note" });
    const prev = el("button", { onclick: () => { page = Math.max(0, page - 1); render(); } }, "previous");
    const next = el("button", { onclick: () => { page += 1; render(); } }, "next");
    const numeric = (v) => (typeof v === "number" ? v : parseFloat(v));
    function rows() {
      let r = all.filter((row) => (!symbolSel.value || row[symbolIdx] === symbolSel.value) && (!reasonSel.value || row[reasonIdx] === reasonSel.value));
      if (sortBy !== null) {
        r = r.slice().sort((a, b) => {
          const x = numeric(a[sortBy]), y = numeric(b[sortBy]);
          const c = Number.isNaN(x) || Number.isNaN(y) ? String(a[sortBy]).localeCompare(String(b[sortBy])) : x - y;
          return descending ? -c : c;
        });
      }
      return r;
    }
    function cell(i, v) {
      const name = cols[i];
      if (name.endsWith("_time")) return date(v);
      if (name === "return_pct") return pct(v);
      return v;
    }
    function render() {
      const r = rows();
      const pages = Math.max(1, Math.ceil(r.length / pageSize));
      page = Math.min(page, pages - 1);
      body.replaceChildren(...r.slice(page * pageSize, (page + 1) * pageSize).map((row) =>
        el("tr", {}, row.map((v, i) => el("td", { class: typeof v === "number" || /^-?[0-9.]+$/.test(v) ? "num" : "" }, cell(i, v))))));
      status.textContent = ` ${r.length} trades, page ${page + 1} of ${pages} `;
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }
    symbolSel.addEventListener("change", () => { page = 0; render(); });
    reasonSel.addEventListener("change", () => { page = 0; render(); });
    const head = el("tr", {}, cols.map((c, i) => el("th", { class: "sortable", onclick: () => { descending = sortBy === i ? !descending : false; sortBy = i; render(); } }, c)));
    render();
    return section(`Trades (${all.length})`, el("div", { class: "controls" }, symbolSel, reasonSel, prev, status, next),
      el("table", { class: "grid", id: "trades" }, el("thead", {}, head), body));
  }

  // ---- monthly returns ----------------------------------------------------
  function monthlyPanel() {
    const m = data.monthly;
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const colour = (x) => {
      if (x === null || x === undefined) return "";
      const a = Math.min(1, Math.abs(x) / 10);
      return x >= 0 ? `background: rgba(46,125,50,${0.15 + 0.6 * a})` : `background: rgba(198,40,40,${0.15 + 0.6 * a})`;
    };
    const td = (x, attrs) => el("td", Object.assign({ class: "num", style: colour(x) }, attrs), x === null || x === undefined ? "" : x.toFixed(2));
    return section("Monthly returns (%)", el("table", { class: "grid", id: "monthly" },
      el("thead", {}, el("tr", {}, el("th", {}, "year"), months.map((n) => el("th", {}, n)), el("th", {}, "year"))),
      el("tbody", {}, m.years.map((y, i) => el("tr", {}, el("th", {}, y),
        m.cells[i].map((x, j) => td(x, { "data-period": `${y}-${String(j + 1).padStart(2, "0")}` })),
        td(m.yearly[i], { "data-period": String(y) }))))));
  }

  // ---- contributions and log ----------------------------------------------
  function contributionsPanel() {
    const c = data.contributions;
    if (!Array.isArray(c) || c.length === 0) return null;
    const cols = Object.keys(c[0]);
    return section("Per-symbol contributions", el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, cols.map((k) => el("th", {}, k)))),
      el("tbody", {}, c.map((row) => el("tr", {}, cols.map((k) => el("td", {}, text(row[k]))))))));
  }

  function logPanel() {
    const log = data.log || {};
    const lines = log.lines || [];
    const rejections = log.rejections || [];
    return section("Log and rejections",
      el("p", { class: "note" }, `${lines.length} log lines${log.dropped ? `, ${log.dropped} dropped` : ""}; ${rejections.length} rejected orders.`),
      el("pre", { id: "log" }, lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")),
      rejections.length ? el("pre", { id: "rejections" }, rejections.map((r) => JSON.stringify(r)).join("\n")) : null);
  }

  app.append(header(), equityPanel(), ...pricePanels(), metricsPanel(), tradesPanel(), monthlyPanel(), contributionsPanel() || "", logPanel(),
    el("footer", {}, "Charts by TradingView Lightweight Charts™ (https://www.tradingview.com/), Copyright (с) 2023 TradingView, Inc."));
  document.body.dataset.rendered = "true";
  // After the charts' own frame callbacks: how long the page took to show
  // everything, from navigation (read by the benchmarks in benches/README.md).
  requestAnimationFrame(() => requestAnimationFrame(() => { document.body.dataset.drawnMs = String(Math.round(performance.now())); }));
})();
