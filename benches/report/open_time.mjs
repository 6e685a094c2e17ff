// How long a report takes to show everything in headless Chromium: opens the
// file, waits for the page's `data-drawn-ms` (set after the charts' frames),
// prints it. Needs Node 20+ (`--experimental-websocket` on 20) and Chromium.
// Usage: node --experimental-websocket benches/report/open_time.mjs REPORT.html [RUNS]
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const file = resolve(process.argv[2]);
const runs = Number(process.argv[3] || 3);
const chromium = process.env.BACKTESTER_CHROMIUM || "/usr/bin/chromium";

for (let run = 0; run < runs; run++) {
  const profile = mkdtempSync(join(tmpdir(), "report-open-"));
  const child = spawn(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--window-size=1300,1000", "--remote-debugging-port=0", `--user-data-dir=${profile}`, "about:blank"]);
  const url = await new Promise((ok) => {
    let text = "";
    child.stderr.on("data", (d) => { text += d; const m = text.match(/DevTools listening on (ws:\S+)/); if (m) ok(m[1]); });
  });
  const ws = new WebSocket(url);
  await new Promise((ok) => ws.addEventListener("open", ok));
  let id = 0;
  const pending = new Map();
  ws.addEventListener("message", (e) => { const m = JSON.parse(e.data); if (pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } });
  const call = (method, params = {}, sessionId) => new Promise((ok) => { id += 1; pending.set(id, ok); ws.send(JSON.stringify({ id, method, params, sessionId })); });
  const { result: { targetId } } = await call("Target.createTarget", { url: "about:blank" });
  const { result: { sessionId } } = await call("Target.attachToTarget", { targetId, flatten: true });
  await call("Page.navigate", { url: `file://${file}` }, sessionId);
  let drawn = null;
  while (drawn === null) {
    const r = await call("Runtime.evaluate", { expression: "document.body && document.body.dataset.drawnMs", returnByValue: true }, sessionId);
    drawn = r.result && r.result.result && r.result.result.value ? Number(r.result.result.value) : null;
    if (drawn === null) await new Promise((ok) => setTimeout(ok, 20));
  }
  console.log(`${file}: everything drawn ${drawn} ms after navigation`);
  ws.close();
  child.kill();
}
