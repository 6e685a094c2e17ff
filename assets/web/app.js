// The service's page: strategies, datasets, runs (live through each run's
// event stream), sweeps (live partial leaderboards) and a form that starts
// a run, showing the API's error next to the field it names. Plain DOM,
// no build step; talks only to this server's /api.

const $ = (selector) => document.querySelector(selector);

// From /assets/dom.js, loaded before this module.
const el = window.el;

// A server with tokens: the page signs in once (POST /api/session sets an
// HttpOnly cookie, which event streams carry too) and sends the bt_csrf
// cookie back as a header on every write.
function csrfToken() {
  const found = document.cookie.match(/(?:^|;\s*)bt_csrf=([^;]+)/);
  return found ? found[1] : null;
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  const method = (options.method || "GET").toUpperCase();
  const csrf = csrfToken();
  if (method !== "GET" && csrf) headers.set("x-csrf-token", csrf);
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => null);
  if (response.status === 401) showSignIn(body && body.message);
  if (!response.ok) {
    const error = new Error((body && body.message) || response.statusText);
    error.field = body && body.field;
    error.status = response.status;
    throw error;
  }
  return body;
}

const state = { strategies: [], details: new Map(), streams: new Map(), charts: new Map() };

// ---- strategies and datasets ------------------------------------------------
async function loadStrategies() {
  state.strategies = await api("/api/strategies");
  const body = $("#strategies tbody");
  body.replaceChildren();
  for (const s of state.strategies) {
    const detail = await api(`/api/strategies/${s.id}`);
    state.details.set(s.id, detail);
    const latest = detail.versions[detail.versions.length - 1];
    const params = latest ? latest.params.map((p) => `${p.name}=${JSON.stringify(p.default)}`).join(", ") : "";
    body.append(el("tr", { "data-strategy": s.id }, el("td", {}, s.id), el("td", {}, s.name), el("td", {}, s.runtime),
      el("td", {}, detail.versions.map((v) => `v${v.version}`).join(" ")), el("td", {}, params),
      el("td", { class: "error" }, s.last_reload_error || "")));
  }
  const select = $("#f-strategy");
  const chosen = select.value;
  select.replaceChildren(...state.strategies.map((s) => el("option", { value: s.id }, `${s.name} (${s.runtime})`)));
  if (chosen) select.value = chosen;
  strategyChosen();
}

function strategyChosen() {
  const detail = state.details.get(Number($("#f-strategy").value));
  const versions = detail ? detail.versions : [];
  $("#f-version").replaceChildren(...versions.slice().reverse().map((v) => el("option", { value: v.version }, `v${v.version}`)));
  versionChosen();
}

function versionChosen() {
  const detail = state.details.get(Number($("#f-strategy").value));
  const version = detail && detail.versions.find((v) => String(v.version) === $("#f-version").value);
  const fieldset = $("#f-params");
  fieldset.replaceChildren(el("legend", {}, "parameters"));
  for (const p of version ? version.params : []) {
    const input = p.type === "bool"
      ? el("input", { type: "checkbox", name: `param-${p.name}`, "data-param": p.name, "data-type": p.type })
      : el("input", { name: `param-${p.name}`, "data-param": p.name, "data-type": p.type, value: String(p.default) });
    if (p.type === "bool" && p.default) input.checked = true;
    fieldset.append(el("label", {}, `${p.name} (${p.type}) `, input), el("div", { class: "field", "data-field": `params.${p.name}` }));
  }
}

async function loadDatasets() {
  const datasets = await api("/api/datasets");
  $("#datasets tbody").replaceChildren(...datasets.map((d) => el("tr", {}, el("td", {}, d.symbol), el("td", {}, d.rows),
    el("td", {}, d.first), el("td", {}, d.last), el("td", {}, d.interval || ""))));
  const select = $("#f-symbols");
  const chosen = new Set([...select.selectedOptions].map((o) => o.value));
  select.replaceChildren(...datasets.map((d) => { const o = el("option", { value: d.symbol }, d.symbol); o.selected = chosen.has(d.symbol); return o; }));
}

// ---- the form ------------------------------------------------------------------
function clearErrors() {
  document.querySelectorAll(".field").forEach((f) => { f.textContent = ""; });
}

function showError(error) {
  const field = error.field || "body";
  const target = document.querySelector(`.field[data-field="${CSS.escape(field)}"]`)
    || document.querySelector(`.field[data-field="${CSS.escape(field.split(".")[0])}"]`)
    || document.querySelector('.field[data-field="body"]');
  target.textContent = error.message;
}

function request() {
  const form = $("#run-form");
  const text = (id) => $(id).value.trim();
  const body = {
    strategy_id: Number(text("#f-strategy")),
    version: Number(text("#f-version")),
    symbols: [...$("#f-symbols").selectedOptions].map((o) => o.value),
    initial_capital: Number(text("#f-capital")),
    fractional: $("#f-fractional").checked,
    trade_on_close: $("#f-close").checked,
    params: {},
  };
  // Numbers the user typed go as typed when they are not numbers, so the API names the field.
  const number = (id) => { const t = text(id); const n = Number(t); return t !== "" && Number.isFinite(n) ? n : t; };
  body.initial_capital = number("#f-capital");
  const rate = number("#f-commission");
  if (rate !== 0) body.commission = { model: "percent", rate };
  body.slippage_bps = number("#f-slippage");
  body.leverage = number("#f-leverage");
  for (const [key, id] of [["start", "#f-start"], ["end", "#f-end"], ["resample", "#f-resample"]]) {
    if (text(id)) body[key] = text(id);
  }
  for (const input of form.querySelectorAll("[data-param]")) {
    const type = input.dataset.type;
    const name = input.dataset.param;
    if (type === "bool") body.params[name] = input.checked;
    else if (type === "int" || type === "float") { const n = Number(input.value); body.params[name] = input.value.trim() !== "" && Number.isFinite(n) ? n : input.value; }
    else body.params[name] = input.value;
  }
  return body;
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  try {
    const run = await api("/api/runs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request()) });
    await loadRuns();
    follow(run.id);
  } catch (error) {
    showError(error);
  }
}

// ---- runs ------------------------------------------------------------------------
function strategyName(id) {
  const s = state.strategies.find((x) => x.id === id);
  return s ? s.name : `strategy ${id}`;
}

function runRow(run) {
  const id = run.id;
  const row = el("tr", { "data-run": id },
    el("td", {}, id),
    el("td", {}, `${strategyName(run.strategy_id)} v${run.version ?? ""}`),
    el("td", { class: "status" }, run.status),
    el("td", {}, el("progress", { max: 100, value: run.progress_pct || 0 }), el("span", { class: "pct" }, ` ${(run.progress_pct || 0).toFixed(0)} %`)),
    el("td", {}, el("span", { class: "equity" }, run.metrics && run.metrics.final_equity !== undefined ? run.metrics.final_equity : ""), el("div", { class: "spark" })),
    el("td", { class: "actions" }));
  actions(row, run.status);
  return row;
}

function actions(row, status) {
  const id = Number(row.dataset.run);
  const cell = row.querySelector(".actions");
  cell.replaceChildren();
  if (status === "queued" || status === "running") {
    cell.append(el("button", { class: "cancel", onclick: async () => { await api(`/api/runs/${id}/cancel`, { method: "POST" }); } }, "cancel"));
  } else {
    cell.append(el("button", { class: "rerun", onclick: async () => { const r = await api(`/api/runs/${id}/rerun`, { method: "POST" }); await loadRuns(); follow(r.id); } }, "rerun"));
  }
  if (status === "completed") cell.append(" ", el("a", { class: "report", href: `/api/runs/${id}/report`, target: "_blank" }, "report"));
}

async function loadRuns() {
  const runs = await api("/api/runs?limit=1000");
  const latest = runs.slice(-50).reverse();
  $("#runs tbody").replaceChildren(...latest.map(runRow));
  for (const run of latest) if (run.status === "queued" || run.status === "running") follow(run.id);
}

// Follows a run's event stream: progress and equity until its final event.
function follow(id) {
  if (state.streams.has(id)) return;
  const source = new EventSource(`/api/runs/${id}/events`);
  state.streams.set(id, source);
  const row = () => document.querySelector(`tr[data-run="${id}"]`);
  const points = [];
  const update = (status, pct) => {
    const r = row();
    if (!r) return;
    r.querySelector(".status").textContent = status;
    if (pct !== undefined) { r.querySelector("progress").value = pct; r.querySelector(".pct").textContent = ` ${pct.toFixed(0)} %`; }
    actions(r, status);
  };
  source.addEventListener("progress", (e) => {
    const p = JSON.parse(e.data);
    update("running", p.progress_pct);
    const r = row();
    if (r) r.querySelector(".equity").textContent = p.equity.toFixed(2);
    points.push(p.equity);
    spark(r, points);
  });
  const end = (status) => (e) => {
    const p = JSON.parse(e.data);
    update(status, status === "completed" ? 100 : undefined);
    const r = row();
    if (r && p.metrics && p.metrics.final_equity !== undefined) r.querySelector(".equity").textContent = p.metrics.final_equity;
    source.close();
    state.streams.delete(id);
  };
  source.addEventListener("completed", end("completed"));
  source.addEventListener("failed", end("failed"));
  source.addEventListener("cancelled", end("cancelled"));
}

// A small line of the equity seen so far, drawn on a canvas.
function spark(row, points) {
  if (!row || points.length < 2) return;
  const box = row.querySelector(".spark");
  let canvas = box.querySelector("canvas");
  if (!canvas) { canvas = el("canvas", { width: 120, height: 24 }); box.append(canvas); }
  const g = canvas.getContext("2d");
  const lo = Math.min(...points), hi = Math.max(...points);
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.strokeStyle = "#1565c0";
  g.beginPath();
  points.forEach((v, i) => {
    const x = (i / (points.length - 1)) * canvas.width;
    const y = canvas.height - (hi > lo ? ((v - lo) / (hi - lo)) * canvas.height : canvas.height / 2);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}

// ---- sweeps ------------------------------------------------------------------------
async function loadSweeps() {
  const sweeps = await api("/api/sweeps?limit=10");
  const box = $("#sweeps");
  box.replaceChildren();
  for (const summary of sweeps) {
    const sweep = await api(`/api/sweeps/${summary.id}`);
    const board = sweep.leaderboard ? sweep.leaderboard.variants : [];
    box.append(el("div", { class: "sweep", "data-sweep": sweep.id },
      el("h3", {}, `sweep ${sweep.id}: ${sweep.status}, ${sweep.done} of ${sweep.total} variants`,
        sweep.leaderboard && sweep.leaderboard.partial ? el("span", { class: "partial" }, " (partial)") : "",
        " ", sweep.kind === "sweep" ? el("a", { href: `/api/sweeps/${sweep.id}/report`, target: "_blank" }, "report") : ""),
      el("table", { class: "grid" }, el("tbody", {}, board.map((v) => el("tr", {}, el("td", {}, v.rank), el("td", {}, JSON.stringify(v.values)),
        el("td", {}, `${sweep.objective.metric} ${v.metrics[sweep.objective.metric]}`)))))));
  }
  const live = sweeps.some((s) => s.status === "queued" || s.status === "running");
  setTimeout(loadSweeps, live ? 2000 : 10000);
}

function showSignIn(message) {
  $("#sign-in").hidden = false;
  $("#sign-in-error").textContent = message || "";
}

async function signIn(event) {
  event.preventDefault();
  try {
    await api("/api/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token: $("#f-token").value }) });
    window.location.reload();
  } catch (e) {
    $("#sign-in-error").textContent = e.message;
  }
}

async function health() {
  try { await api("/health"); $("#health").textContent = "database: ok"; } catch (e) { $("#health").textContent = `database: ${e.message}`; }
}

$("#f-strategy").addEventListener("change", strategyChosen);
$("#f-version").addEventListener("change", versionChosen);
$("#run-form").addEventListener("submit", submit);
$("#sign-in-form").addEventListener("submit", signIn);
// Signed out (a 401 showed the sign-in form): nothing to load until signed in.
const unlessSignedOut = (e) => { if (e.status !== 401) throw e; };
Promise.all([loadStrategies(), loadDatasets(), loadRuns(), health()]).then(() => { document.body.dataset.ready = "true"; }).catch(unlessSignedOut);
loadSweeps().catch(unlessSignedOut);
