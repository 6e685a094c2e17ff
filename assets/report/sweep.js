// Renders a sweep's report from the JSON in #report-data: counts and the
// objective, the Deflated Sharpe Ratio line, the leaderboard with links to
// the best variants' run reports, a heatmap of any two axes for any metric
// (other axes at their best), and each axis's sensitivity. Plain DOM.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const app = document.getElementById("app");

  const el = window.el;
  const section = (title, ...children) => el("section", { class: "panel" }, el("h2", {}, title), ...children);
  const fmt = (x) => (x === null || x === undefined ? "n/a" : Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(2) : x.toFixed(4));
  const obj = data.objective;
  const metricIdx = (name) => data.metrics.indexOf(name);
  // Higher is better for the objective unless it minimises; for other metrics, higher.
  const better = (metric) => (metric === obj.metric ? !obj.minimize : metric !== "annual_volatility_pct");

  function header() {
    const c = data.counts;
    return el("header", {},
      el("h1", {}, data.title),
      data.final ? null : el("p", { class: "partial", id: "partial-banner" }, `Partial: ${c.done} of ${c.total} variants have finished; the ranking may still change.`),
      el("p", {}, `${c.total} variants: ${c.ran} ran, ${c.excluded} excluded by the constraint, ${c.failed} failed. ` +
        `Objective: ${obj.metric} (${obj.minimize ? "lower" : "higher"} is better${obj.min_trades ? `, at least ${obj.min_trades} trades` : ""}).`),
      el("p", { id: "deflated" }, deflatedLine()));
  }

  function deflatedLine() {
    const d = data.deflated_sharpe;
    if (!d) return data.final ? "Deflated Sharpe ratio: n/a (it needs two variants with a Sharpe ratio)." : "Deflated Sharpe ratio: computed when the sweep has finished.";
    return `Deflated Sharpe ratio of the best: ${d.deflated_sharpe.toFixed(4)}: the probability that its Sharpe ratio beats the best of ${d.trials} unskilled tries (per-bar Sharpe ${d.best_sharpe.toFixed(4)} against ${d.expected_max_sharpe.toFixed(4)} expected of that best).`;
  }

  function leaderboard() {
    const axes = data.axes.map((a) => a.name);
    const shown = [obj.metric, "return_pct", "sharpe", "max_drawdown_pct", "trades"].filter((m, i, all) => all.indexOf(m) === i);
    return section("Leaderboard", el("table", { class: "grid", id: "leaderboard" },
      el("thead", {}, el("tr", {}, el("th", {}, "rank"), el("th", {}, "variant"), axes.map((a) => el("th", {}, a)), shown.map((m) => el("th", {}, m)), el("th", {}, "report"))),
      el("tbody", {}, data.leaderboard.map((l) => el("tr", {},
        el("td", {}, l.rank), el("td", {}, l.number), axes.map((a) => el("td", { class: "num" }, l.values[a])),
        shown.map((m) => el("td", { class: "num" }, fmt(l.metrics[m]))),
        el("td", {}, l.report ? el("a", { href: l.report }, "run report") : ""))))));
  }

  function heatmap() {
    const axes = data.axes;
    const rows = data.variants.rows;
    const sel = (id, options, value) => el("select", { id }, options.map((o) => { const opt = el("option", { value: o }, o); if (o === value) opt.selected = true; return opt; }));
    const xSel = sel("heat-x", axes.map((a) => a.name), axes[0] && axes[0].name);
    const ySel = sel("heat-y", axes.map((a) => a.name), axes[1] ? axes[1].name : axes[0] && axes[0].name);
    const mSel = sel("heat-metric", data.metrics, obj.metric);
    const table = el("table", { class: "grid heat", id: "heatmap" });
    function render() {
      const xi = axes.findIndex((a) => a.name === xSel.value), yi = axes.findIndex((a) => a.name === ySel.value);
      const mi = metricIdx(mSel.value), up = better(mSel.value);
      const xs = axes[xi].values, ys = axes[yi].values;
      const cells = ys.map(() => xs.map(() => null));
      for (const [, values, metrics] of rows) {
        const v = metrics[mi];
        if (v === null) continue;
        const c = xs.indexOf(values[xi]), r = ys.indexOf(values[yi]);
        if (c < 0 || r < 0) continue;
        const old = cells[r][c];
        if (old === null || (up ? v > old : v < old)) cells[r][c] = v;
      }
      const all = cells.flat().filter((v) => v !== null);
      const lo = Math.min(...all), hi = Math.max(...all);
      const colour = (v) => {
        if (v === null) return "";
        const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        const good = up ? t : 1 - t;
        return `background: hsl(${Math.round(good * 120)}, 60%, 75%)`;
      };
      table.replaceChildren(
        el("thead", {}, el("tr", {}, el("th", {}, `${ySel.value} \\ ${xSel.value}`), xs.map((x) => el("th", {}, x)))),
        el("tbody", {}, ys.map((y, r) => el("tr", {}, el("th", {}, y), xs.map((x, c) => el("td", { class: "num", style: colour(cells[r][c]) }, cells[r][c] === null ? "" : fmt(cells[r][c])))))));
    }
    [xSel, ySel, mSel].forEach((s) => s.addEventListener("change", render));
    render();
    const note = data.variants.shown < data.variants.ran ? `Drawn from the best ${data.variants.shown} of ${data.variants.ran} variants by the objective.` : "";
    return section("Heatmap", el("div", { class: "controls" }, "x", xSel, "y", ySel, "metric", mSel),
      el("p", { class: "note" }, "Each cell holds the best value over the variants that differ only in the other axes. " + note), table);
  }

  function sensitivity() {
    const mi = metricIdx(obj.metric);
    const tables = data.axes.map((axis, ai) => {
      const by = new Map(axis.values.map((v) => [v, []]));
      for (const [, values, metrics] of data.variants.rows) {
        const v = metrics[mi];
        if (v !== null && by.has(values[ai])) by.get(values[ai]).push(v);
      }
      return el("table", { class: "grid sensitivity", "data-axis": axis.name },
        el("caption", {}, axis.name),
        el("thead", {}, el("tr", {}, ["value", "variants", "min", "median", "max"].map((h) => el("th", {}, h)))),
        el("tbody", {}, [...by.entries()].map(([value, xs]) => {
          xs.sort((a, b) => a - b);
          const median = xs.length ? (xs.length % 2 ? xs[(xs.length - 1) / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2) : null;
          return el("tr", {}, el("td", {}, value), el("td", { class: "num" }, xs.length), el("td", { class: "num" }, fmt(xs.length ? xs[0] : null)),
            el("td", { class: "num" }, fmt(median)), el("td", { class: "num" }, fmt(xs.length ? xs[xs.length - 1] : null)));
        })));
    });
    return section(`Sensitivity: ${obj.metric} per axis value`, el("div", { class: "groups" }, tables));
  }

  app.append(header(), leaderboard(), heatmap(), sensitivity());
  document.body.dataset.rendered = "true";
  if (!data.final) {
    const secs = Number((document.getElementById("partial") || {}).dataset?.secs || 3);
    setTimeout(() => location.reload(), secs * 1000);
  }
})();
