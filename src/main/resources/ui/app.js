// Switchboard dashboard: plain ES module, no build step. Every figure comes from /api/v1 with the
// admin token the operator typed in (kept in sessionStorage, sent as a bearer token).

const TOKEN_KEY = "switchboard.token";
const API = "/api/v1";
const REFRESH_MS = 5000;

// Ingest refusals by reason code → the HTTP status the source's caller saw.
const REJECTION_STATUS = {
  signature_rejected: 401, ip_not_allowed: 403, body_too_large: 413, unsupported_media_type: 415,
  invalid_json: 400, idempotency_key_missing: 400, idempotency_key_invalid: 400,
  partition_key_invalid: 400, schema_invalid: 400, rate_limited: 429,
  shutting_down: 503, backlog_full: 503, store_unavailable: 503, method_not_allowed: 405,
  unknown_source: 404, internal_error: 500,
};
const REJECTION_COLUMNS = [401, 403, 413, 415, 400, 429, 503];
const COLORS = ["#2f6fed", "#1a7f4b", "#c2372f", "#b26a00", "#7a4ddb", "#0e8a9a", "#8a8f98"];

const $ = (sel, root = document) => root.querySelector(sel);
const main = () => $("#main");
let timer = null;
let charts = [];

// ---------------------------------------------------------------- helpers

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function when(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

// "12 s ago", "in 3 h": for times an operator reads against now (the exact time is in the title)
function ago(iso) {
  if (!iso) return "—";
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  const n = Math.abs(s);
  const span = n < 60 ? `${n} s` : n < 3600 ? `${Math.floor(n / 60)} min`
    : n < 86400 ? `${Math.floor(n / 3600)} h` : `${Math.floor(n / 86400)} d`;
  return s >= 0 ? `${span} ago` : `in ${span}`;
}

function agoTitled(iso) {
  return iso ? `<span title="${esc(when(iso))}">${esc(ago(iso))}</span>` : '<span class="muted">—</span>';
}

function badge(text, cls = text) {
  return `<span class="badge ${esc(cls)}">${esc(text)}</span>`;
}

function empty(title, hint) {
  return `<div class="empty card"><strong>${esc(title)}</strong>${esc(hint)}</div>`;
}

function flash(text, bad = false) {
  const el = $("#flash");
  el.textContent = text;
  el.classList.toggle("bad", bad);
  el.hidden = false;
}

class Unauthorized extends Error {}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ""}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(API + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) throw new Unauthorized();
  if (res.status === 204) return null;
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(json?.detail ?? json?.title ?? `HTTP ${res.status}`);
  return json;
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// ---------------------------------------------------------------- login and routing

function showLogin(message) {
  stop();
  sessionStorage.removeItem(TOKEN_KEY);
  $("#shell").hidden = true;
  $("#login").hidden = false;
  $("#login-error").hidden = !message;
  $("#login-error").textContent = message ?? "";
  $("#token").value = "";
  $("#token").focus();
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
  try {
    await api("/sources");
    $("#token").value = "";
    $("#login").hidden = true;
    $("#shell").hidden = false;
    if (!location.hash) location.hash = "#/overview";
    route();
  } catch (err) {
    showLogin(err instanceof Unauthorized ? "That token was not accepted." : err.message);
  }
});

$("#logout").addEventListener("click", () => showLogin());
window.addEventListener("hashchange", () => route());

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
  charts.forEach((c) => c.destroy());
  charts = [];
}

async function route() {
  if ($("#shell").hidden) return;
  stop();
  $("#flash").hidden = true;
  const [page, arg] = location.hash.replace(/^#\/?/, "").split("/");
  const pages = {
    overview, events: arg ? () => eventDetail(decodeURIComponent(arg)) : events,
    "dead-letters": deadLetters, destinations, sources,
  };
  const show = pages[page] ?? overview;
  document.querySelectorAll(".topbar nav a").forEach((a) =>
    a.classList.toggle("active", a.dataset.page === (pages[page] ? page : "overview")));
  try {
    await show();
  } catch (err) {
    if (err instanceof Unauthorized) showLogin("Your token is no longer accepted; sign in again.");
    else flash(`Could not load this page: ${err.message}`, true);
  }
}

function every(fn) {
  timer = setInterval(() => fn().catch((err) => {
    if (err instanceof Unauthorized) showLogin("Your token is no longer accepted; sign in again.");
  }), REFRESH_MS);
}

// ---------------------------------------------------------------- overview

// a dot only where a value has no neighbour to draw a line to (a lone step would be invisible)
function isolated(ctx) {
  const data = ctx.dataset.data;
  const i = ctx.dataIndex;
  return data[i] != null && data[i - 1] == null && data[i + 1] == null ? 3 : 0;
}

function lineChart(canvas, labels, datasets, unit) {
  return new Chart(canvas, {
    type: "line",
    data: { labels, datasets: datasets.map((d, i) => ({
      borderColor: COLORS[i % COLORS.length], backgroundColor: COLORS[i % COLORS.length],
      pointRadius: isolated, borderWidth: 2, tension: 0.25, spanGaps: true, ...d })) },
    options: {
      animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
      scales: { x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } },
        y: { beginAtZero: true, title: { display: true, text: unit } } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } },
    },
  });
}

async function overview() {
  main().innerHTML = `
    <div class="page-head"><h1>Overview</h1><span class="muted">last 15 minutes, 10-second steps, refreshed every 5 s</span></div>
    <div class="tiles" id="tiles"></div>
    <p id="overview-empty" class="notice" hidden>No events in the last 15 minutes. Point a sender at
      <code>/hooks/&lt;source&gt;</code> (see the Sources page for each source's path and signature scheme).</p>
    <div class="grid">
      <div class="card"><h2>Ingest rate (events/s)</h2><div class="chart-box"><canvas id="chart-ingest"></canvas></div></div>
      <div class="card"><h2>Deliveries by outcome (per step)</h2><div class="chart-box"><canvas id="chart-deliveries"></canvas></div></div>
      <div class="card"><h2>Latency (ms)</h2><div class="chart-box"><canvas id="chart-latency"></canvas></div></div>
      <div class="card"><h2>Queue depth and dead letters</h2><div class="chart-box"><canvas id="chart-queues"></canvas></div></div>
    </div>
    <div class="card" id="operational"><h2>Operational events</h2><div id="operational-list" class="muted">Loading…</div></div>`;
  const draw = async () => {
    const stats = await api("/stats?window=15m");
    charts.forEach((c) => c.destroy());
    charts = [];
    renderOverview(stats);
    await renderOperational();
  };
  await draw();
  every(draw);
}

// the gateway's own events (source `switchboard`, docs/operational-events.md), newest first
async function renderOperational() {
  const page = await api(`/events${query({ source: "switchboard", limit: 8 })}`);
  const list = $("#operational-list");
  if (!page.items.length) {
    list.innerHTML = `No operational events: dead letters, breakers, holds and refusals show up here
      (route them from the <code>switchboard</code> source to Slack or a pager).`;
    return;
  }
  const events = await Promise.all(page.items.map((e) => api(`/events/${encodeURIComponent(e.id)}`)));
  list.classList.remove("muted");
  list.innerHTML = `<ul class="operational">${events.map((e) => {
    const p = e.payload ?? {};
    return `<li data-type="${esc(p.type)}">${badge(p.severity ?? "?", p.severity === "info" ? "delivered" : p.severity === "warning" ? "warn" : "dead")}
      <strong>${esc(p.type)}</strong> <span class="muted">${esc(when(p.occurredAt ?? e.receivedAt))}</span>
      <div>${esc(p.summary ?? "")} <a href="${esc(p.link ?? "#/events/" + e.id)}">show</a></div></li>`;
  }).join("")}</ul>`;
}

function renderOverview({ stepSeconds, points }) {
  const labels = points.map((p) => new Date(p.start).toLocaleTimeString());
  const sum = (f) => points.reduce((n, p) => n + f(p), 0);
  const perSecond = (n) => Math.round((n / stepSeconds) * 100) / 100;

  const outcomes = new Set();
  const destinations = new Set();
  points.forEach((p) => {
    Object.values(p.deliveries ?? {}).forEach((c) => Object.keys(c).forEach((o) => outcomes.add(o)));
    Object.keys(p.queues ?? {}).forEach((d) => destinations.add(d));
  });
  const byOutcome = (p, o) => Object.values(p.deliveries ?? {}).reduce((n, c) => n + (c[o] ?? 0), 0);
  const last = points.at(-1);
  const deadNow = last ? Object.values(last.queues ?? {}).reduce((n, q) => n + q.deadLetters, 0) : 0;
  const ingested = sum((p) => p.ingest.accepted + p.ingest.duplicate + p.ingest.quarantined);

  $("#tiles").innerHTML = [
    ["Events received", ingested],
    ["Rejected requests", sum((p) => p.ingest.rejected)],
    ["Delivered", sum((p) => byOutcome(p, "delivered"))],
    ["Dead letters now", deadNow],
  ].map(([k, v]) => `<div class="card tile"><div class="muted">${esc(k)}</div><div class="value">${esc(v)}</div></div>`).join("");

  $("#overview-empty").hidden = ingested + sum((p) => p.ingest.rejected) > 0;
  const ingestCanvas = $("#chart-ingest");
  ingestCanvas.dataset.points = String(points.length);
  ingestCanvas.dataset.total = String(ingested);
  charts.push(lineChart(ingestCanvas, labels, [
    { label: "accepted", data: points.map((p) => perSecond(p.ingest.accepted)) },
    { label: "duplicate", data: points.map((p) => perSecond(p.ingest.duplicate)) },
    { label: "rejected", data: points.map((p) => perSecond(p.ingest.rejected)) },
    { label: "quarantined", data: points.map((p) => perSecond(p.ingest.quarantined)) },
  ], "events/s"));

  const deliveryCanvas = $("#chart-deliveries");
  deliveryCanvas.dataset.total = String(sum((p) => [...outcomes].reduce((n, o) => n + byOutcome(p, o), 0)));
  charts.push(new Chart(deliveryCanvas, {
    type: "bar",
    data: { labels, datasets: [...outcomes].sort().map((o, i) => ({
      label: o, data: points.map((p) => byOutcome(p, o)),
      backgroundColor: { delivered: "#1a7f4b", retry: "#b26a00", dead: "#c2372f" }[o] ?? COLORS[i % COLORS.length] })) },
    options: { animation: false, maintainAspectRatio: false,
      scales: { x: { stacked: true, ticks: { maxTicksLimit: 8, maxRotation: 0 } }, y: { stacked: true, beginAtZero: true } },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } } },
  }));

  charts.push(lineChart($("#chart-latency"), labels, [
    { label: "ack p50", data: points.map((p) => p.ackMs?.p50 ?? null) },
    { label: "ack p99", data: points.map((p) => p.ackMs?.p99 ?? null) },
    { label: "end-to-end p50", data: points.map((p) => p.endToEndMs?.p50 ?? null) },
    { label: "end-to-end p99", data: points.map((p) => p.endToEndMs?.p99 ?? null) },
  ], "ms"));

  charts.push(lineChart($("#chart-queues"), labels, [...destinations].sort().flatMap((d) => [
    { label: `${d} queue`, data: points.map((p) => p.queues?.[d]?.depth ?? null) },
    { label: `${d} dead`, data: points.map((p) => p.queues?.[d]?.deadLetters ?? null), borderDash: [4, 4] },
  ]), "deliveries"));
}

// ---------------------------------------------------------------- events

async function events() {
  const sourceList = await api("/sources");
  const params = new URLSearchParams(sessionStorage.getItem("switchboard.eventSearch") ?? "");
  main().innerHTML = `
    <div class="page-head"><h1>Events</h1><span class="muted">newest first; the text search reads stored (redacted) payloads</span></div>
    <form id="event-search" class="filters card">
      <label>Text in payload<input id="q" name="q" placeholder="e.g. an order id" value="${esc(params.get("q"))}"></label>
      <label>Source<select name="source"><option value="">any</option>${sourceList.items.map((s) =>
        `<option ${params.get("source") === s.name ? "selected" : ""}>${esc(s.name)}</option>`).join("")}</select></label>
      <label>Status<select name="status"><option value="">any</option>${["accepted", "quarantined"].map((s) =>
        `<option ${params.get("status") === s ? "selected" : ""}>${s}</option>`).join("")}</select></label>
      <label>Partition key<input name="partitionKey" value="${esc(params.get("partitionKey"))}"></label>
      <label>Idempotency key<input name="idempotencyKey" value="${esc(params.get("idempotencyKey"))}"></label>
      <button id="search" class="primary" type="submit">Search</button>
    </form>
    <form id="release-form" class="filters card">
      <label>Release quarantined events of<select name="source">${sourceList.items.map((s) =>
        `<option>${esc(s.name)}</option>`).join("")}</select></label>
      <label>Received within<select name="since"><option value="">any time</option>
        <option value="3600">the last hour</option><option value="86400">the last 24 hours</option>
        <option value="604800">the last 7 days</option></select></label>
      <button id="release-matching" type="submit">Release all matching</button>
      <span class="muted">each is checked against its schema as configured now</span>
    </form>
    <div id="event-results"></div>`;
  const load = async (cursor) => {
    const form = Object.fromEntries(new FormData($("#event-search")));
    sessionStorage.setItem("switchboard.eventSearch", new URLSearchParams(form).toString());
    const page = await api(`/events${query({ ...form, limit: 50, cursor })}`);
    const box = $("#event-results");
    if (!cursor) box.innerHTML = "";
    if (!cursor && page.items.length === 0) {
      box.innerHTML = empty("No events match", page.scanLimited
        ? "The text search stopped after its scan limit; narrow it with a source or a time range."
        : "Events appear here once a source posts them to /hooks/<source>. Loosen the filters to see more.");
      return;
    }
    let table = $("#event-table tbody", box);
    if (!table) {
      box.innerHTML = `<table id="event-table"><thead><tr><th>Received</th><th>Source</th><th>Status</th>
        <th>Partition key</th><th>Deliveries</th><th>Id</th></tr></thead><tbody></tbody></table>
        <div class="actions" style="margin-top:12px"><button id="more" hidden>Load more</button></div>`;
      table = $("#event-table tbody", box);
    }
    table.insertAdjacentHTML("beforeend", page.items.map((e) => `
      <tr class="clickable" data-id="${esc(e.id)}"><td>${esc(when(e.receivedAt))}</td><td>${esc(e.source)}</td>
      <td>${badge(e.status)}</td><td class="mono">${esc(e.partitionKey ?? "—")}</td>
      <td>${Object.entries(e.deliveries).map(([s, n]) => badge(`${n} ${s}`, s)).join("") || '<span class="muted">none</span>'}</td>
      <td class="mono">${esc(e.id)}</td></tr>`).join(""));
    const more = $("#more");
    more.hidden = !page.nextCursor;
    more.onclick = () => load(page.nextCursor).catch((err) => flash(err.message, true));
  };
  $("#event-search").addEventListener("submit", (e) => {
    e.preventDefault();
    load().catch((err) => flash(err.message, true));
  });
  $("#release-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = Object.fromEntries([...new FormData($("#release-form"))].filter(([, v]) => v));
    if (!f.source) return;
    if (f.since) f.from = new Date(Date.now() - Number(f.since) * 1000).toISOString();
    delete f.since;
    try {
      const dry = await api("/quarantine/release", { method: "POST", body: { ...f, dryRun: true } });
      if (dry.matched === 0) { flash(`No quarantined events of ${f.source} in that range.`); return; }
      if (!confirm(`Release ${dry.matched} quarantined event(s) of ${f.source}? Those that now pass their schema are delivered.`)) return;
      const r = await api("/quarantine/release", { method: "POST", body: f });
      flash(`${r.released} released; ${r.stillQuarantined} still fail their schema and stay quarantined.`);
      await load();
    } catch (err) {
      flash(`Release refused: ${err.message}`, true);
    }
  });
  $("#event-results").addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-id]");
    if (row) location.hash = `#/events/${encodeURIComponent(row.dataset.id)}`;
  });
  await load();
}

async function eventDetail(id) {
  const e = await api(`/events/${encodeURIComponent(id)}`);
  main().innerHTML = `
    <div class="page-head"><h1>Event <span class="mono">${esc(e.id)}</span></h1><a href="#/events">← back to search</a></div>
    <div class="two-col">
      <div class="card">
        <h2>Event</h2>
        <dl class="kv">
          <dt>Source</dt><dd>${esc(e.source)}</dd>
          <dt>Status</dt><dd>${badge(e.status)}${e.quarantineReason ? ` ${esc(e.quarantineReason)}` : ""}
            ${e.status === "quarantined" ? '<button id="release" class="primary" title="Check it against the schema as configured now and deliver it if it passes">Release</button>' : ""}</dd>
          ${e.releasedBy ? `<dt>Released</dt><dd>${esc(when(e.releasedAt))} by ${esc(e.releasedBy)}</dd>` : ""}
          <dt>Received</dt><dd>${esc(when(e.receivedAt))}</dd>
          <dt>Event time</dt><dd>${esc(when(e.eventTime))}</dd>
          <dt>Partition key</dt><dd class="mono">${esc(e.partitionKey ?? "—")}</dd>
          <dt>Idempotency key</dt><dd class="mono">${esc(e.idempotencyKey ?? "—")}</dd>
        </dl>
        <h3>Payload (as stored, after redaction)</h3>
        <pre id="payload">${esc(typeof e.payload === "string" ? e.payload : JSON.stringify(e.payload, null, 2))}</pre>
        <h3 style="margin-top:16px">Kept headers</h3>
        <pre>${esc(JSON.stringify(e.headers, null, 2))}</pre>
      </div>
      <div class="card" id="deliveries">
        <h2>Deliveries</h2>
        ${e.deliveries.length === 0 ? empty("No deliveries", e.status === "quarantined"
          ? "It is quarantined: once its source's schema (after a reload) or its sender is fixed, release it."
          : "No route matched this event, or it was quarantined before routing.") : ""}
        ${e.deliveries.map(deliveryView).join("")}
      </div>
    </div>`;
  $("#deliveries").addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-replay]");
    if (!button) return;
    button.disabled = true;
    try {
      await api(`/deliveries/${encodeURIComponent(button.dataset.replay)}/replay`, { method: "POST" });
      await eventDetail(id);
      flash("Replay queued: the delivery will be attempted again shortly.");
    } catch (err) {
      flash(`Replay refused: ${err.message}`, true);
      button.disabled = false;
    }
  });
  $("#release")?.addEventListener("click", async (ev) => {
    ev.target.disabled = true;
    try {
      const r = await api(`/events/${encodeURIComponent(id)}/release`, { method: "POST" });
      await eventDetail(id);
      if (r.status === "accepted") flash(`Released: ${r.deliveries} delivery(ies) created and sent now.`);
      else flash(`Still fails its schema, so it stays quarantined: ${r.quarantineReason}`, true);
    } catch (err) {
      flash(`Release refused: ${err.message}`, true);
      ev.target.disabled = false;
    }
  });
  const open = e.deliveries.some((d) => !["delivered", "dead", "discarded", "skipped"].includes(d.state));
  if (open) every(async () => { if (location.hash.startsWith("#/events/")) await eventDetail(id); });
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

// Why a skipped delivery is not sent, from the reason the admin API gives (lastError):
// "filtered: …" (the route's when is false), "stale: …" (a newer event of its key was already
// delivered), "discarded by …" (an operator discarded the dead letter).
function skipReason(d) {
  const why = d.lastError ?? "";
  const [label, what] = why.startsWith("filtered") ? ["Filtered out", "never sent"]
    : why.startsWith("stale") ? ["Stale", "never sent"]
    : why.startsWith("discarded") ? ["Discarded", "not sent again"]
    : ["Skipped", "not sent"];
  return `<p class="skip-reason"><strong>${label}</strong>: ${what}. <span class="muted">${esc(why || "no reason recorded")}</span></p>`;
}

function deliveryView(d) {
  const skipped = d.state === "skipped" ? skipReason(d) : "";
  const attempts = d.attempts.length === 0
    ? (skipped ? "" : d.scheduledFor ? `<p class="scheduled"><strong>Scheduled</strong> for ${esc(when(d.scheduledFor))} <span class="muted">(the route's delay or reorder window)</span></p>`
      : '<p class="muted">Not attempted yet.</p>')
    : `<ol class="timeline attempts">${d.attempts.map((a) => `
        <li class="attempt ${esc(a.outcome)}"><strong>#${esc(a.number)}</strong> ${badge(a.outcome ?? "?", a.outcome)}
        ${a.status ? `HTTP ${esc(a.status)}` : ""} <span class="muted">${esc(when(a.startedAt))} · ${esc(a.durationMs)} ms</span>
        ${a.error ? `<div class="error">${esc(a.error)}</div>` : ""}
        ${a.excerpt ? `<pre>${esc(a.excerpt)}</pre>` : ""}</li>`).join("")}</ol>`;
  return `<div class="delivery" data-delivery="${esc(d.id)}" data-state="${esc(d.state)}">
    <div class="actions"><strong>${esc(d.route)} → ${esc(d.destination)}</strong> ${d.scheduledFor ? badge("scheduled", "pending") : badge(d.state, d.state)}
      ${d.replays ? `<span class="muted">replayed ${esc(d.replays)}×</span>` : ""}
      ${["dead", "delivered"].includes(d.state) ? `<button data-replay="${esc(d.id)}">Replay</button>` : ""}</div>
    <div class="muted mono">${esc(d.id)}</div>
    ${d.body != null ? `<details class="body"><summary>Body the route sends (its transform of the stored payload)</summary><pre>${esc(pretty(d.body))}</pre></details>`
      : d.bodyNote ? `<p class="muted">Body: ${esc(d.bodyNote)}</p>` : ""}
    ${skipped}${attempts}</div>`;
}

// ---------------------------------------------------------------- dead letters

async function deadLetters() {
  const [dests, routes] = await Promise.all([api("/destinations"), api("/routes")]);
  main().innerHTML = `
    <div class="page-head"><h1>Dead letters</h1><span class="muted">deliveries that failed for good; replay sends them again</span></div>
    <form id="dlq-filter" class="filters card">
      <label>Destination<select name="destination"><option value="">any</option>${dests.items.map((d) => `<option>${esc(d.name)}</option>`).join("")}</select></label>
      <label>Route<select name="route"><option value="">any</option>${routes.items.map((r) => `<option>${esc(r.name)}</option>`).join("")}</select></label>
      <label>Error class<input name="errorClass" placeholder="e.g. http_4xx"></label>
      <label>Failed within<select name="since"><option value="">any time</option>
        <option value="3600">the last hour</option><option value="86400">the last 24 hours</option>
        <option value="604800">the last 7 days</option></select></label>
      <button class="primary" type="submit">Filter</button>
    </form>
    <div class="actions">
      <button id="replay-selected" class="primary" disabled>Replay selected</button>
      <button id="discard-selected" class="danger" disabled>Discard selected</button>
      <span class="muted">or, for everything matching the filter:</span>
      <button id="replay-matching">Replay all matching</button>
      <button id="discard-matching" class="danger">Discard all matching</button>
    </div>
    <div id="dlq-results"></div>`;
  const filter = () => {
    const f = Object.fromEntries([...new FormData($("#dlq-filter"))].filter(([, v]) => v));
    if (f.since) f.from = new Date(Date.now() - Number(f.since) * 1000).toISOString();
    delete f.since;
    return f;
  };
  const selected = () => [...document.querySelectorAll("input.pick:checked")].map((c) => c.value);
  const sync = () => {
    const n = selected().length;
    $("#replay-selected").disabled = n === 0;
    $("#discard-selected").disabled = n === 0;
  };
  const load = async () => {
    const page = await api(`/dead-letters${query({ ...filter(), limit: 200 })}`);
    const box = $("#dlq-results");
    if (page.items.length === 0) {
      box.innerHTML = empty("No dead letters", "Deliveries that fail for good land here, ready to replay once the destination is fixed.");
    } else {
      box.innerHTML = `<table id="dlq-table"><thead><tr><th><input type="checkbox" id="pick-all" aria-label="select all"></th>
        <th>Failed</th><th>Route → destination</th><th>Error</th><th>Event</th></tr></thead><tbody>
        ${page.items.map((d) => `<tr data-id="${esc(d.id)}"><td><input type="checkbox" class="pick" value="${esc(d.id)}"></td>
          <td>${esc(when(d.updatedAt))}</td><td>${esc(d.route)} → ${esc(d.destination)}</td>
          <td>${d.errorClass ? badge(d.errorClass, "bad") : ""} ${esc(d.lastError ?? "")}</td>
          <td><a class="mono" href="#/events/${encodeURIComponent(d.eventId)}">${esc(d.eventId)}</a></td></tr>`).join("")}
        </tbody></table>${page.nextCursor ? '<p class="muted">Showing the newest 200; narrow the filter to see older ones.</p>' : ""}`;
      $("#pick-all").addEventListener("change", (e) => {
        document.querySelectorAll("input.pick").forEach((c) => { c.checked = e.target.checked; });
        sync();
      });
    }
    sync();
  };
  $("#dlq-results").addEventListener("change", sync);
  $("#dlq-filter").addEventListener("submit", (e) => { e.preventDefault(); load().catch((err) => flash(err.message, true)); });
  const bulk = async (action, body) => {
    try {
      const r = await api(`/dead-letters/${action}`, { method: "POST", body });
      flash(action === "replay" ? `${r.replayed} replayed: they are queued for delivery again.` : `${r.discarded} discarded.`);
      await load();
    } catch (err) {
      flash(`${action} refused: ${err.message}`, true);
    }
  };
  $("#replay-selected").addEventListener("click", () => bulk("replay", { ids: selected() }));
  $("#discard-selected").addEventListener("click", () => {
    if (confirm(`Discard ${selected().length} dead letter(s)? They will not be delivered.`)) bulk("discard", { ids: selected() });
  });
  const matching = (action) => {
    const f = filter();
    const body = Object.keys(f).length ? f : { all: true };
    if (confirm(`${action === "replay" ? "Replay" : "Discard"} every dead letter${Object.keys(f).length ? " matching the filter" : ""}?`)) bulk(action, body);
  };
  $("#replay-matching").addEventListener("click", () => matching("replay"));
  $("#discard-matching").addEventListener("click", () => matching("discard"));
  await load();
}

// ---------------------------------------------------------------- destinations

async function destinations() {
  const draw = async () => {
    const { items } = await api("/destinations");
    const html = `
      <div class="page-head"><h1>Destinations</h1><span class="muted">live state, refreshed every 5 s; a pause holds across restarts</span></div>
      ${items.length === 0 ? empty("No destinations", "Add one under destinations: in the configuration and restart the gateway.") : `
      <table id="dest-table"><thead><tr><th>Name</th><th>State</th><th class="num">Queue</th><th class="num">In flight</th>
        <th class="num">Dead letters</th><th class="num">Attempts/s</th><th>Last error</th><th></th></tr></thead><tbody>
      ${items.map((d) => `<tr data-name="${esc(d.name)}">
        <td><strong>${esc(d.name)}</strong><div class="muted">${esc(d.type)}</div></td>
        <td>${d.paused ? badge("paused") : d.hold ? badge("held", "paused") : badge("running", "ok")}${d.hold ? `<div class="muted">held until ${esc(when(d.hold.until))}${d.hold.reason ? ` — ${esc(d.hold.reason)}` : ""}</div>` : ""}
          ${d.breaker && d.breaker !== "closed" ? badge(`breaker ${d.breaker}`, d.breaker) : ""}
          ${d.available === false ? badge("unavailable", "bad") + `<div class="muted">${esc(d.unavailableReason ?? "")}</div>` : ""}</td>
        <td class="num">${esc(d.queueDepth)}</td><td class="num">${esc(d.inFlight)}</td>
        <td class="num">${d.deadLetters ? `<a href="#/dead-letters">${esc(d.deadLetters)}</a>` : "0"}</td>
        <td class="num">${esc(d.attemptsPerSecond)}</td>
        <td>${d.lastError ? `${esc(d.lastError)}<div class="muted">${esc(when(d.lastErrorAt))}</div>` : '<span class="muted">none</span>'}</td>
        <td><button data-toggle="${esc(d.name)}" data-action="${d.paused || d.hold ? "resume" : "pause"}">${d.paused || d.hold ? "Resume" : "Pause"}</button></td>
      </tr>`).join("")}</tbody></table>`}`;
    // redraw only on change, so a refresh never swaps a button away under the pointer
    if (html !== lastDestinations) main().innerHTML = html;
    lastDestinations = html;
  };
  let lastDestinations = null;
  main().onclick = async (e) => {
    const b = e.target.closest("button[data-toggle]");
    if (!b) return;
    b.disabled = true;
    try {
      await api(`/destinations/${encodeURIComponent(b.dataset.toggle)}/${b.dataset.action}`, { method: "POST" });
      await draw();
    } catch (err) {
      flash(err.message, true);
    }
  };
  await draw();
  every(draw);
}

// ---------------------------------------------------------------- sources

// a pulled source's state → the badge colour it takes (stopped stays grey)
const PULL_STATE_CLASS = { connected: "ok", connecting: "warn", failing: "bad", stopped: "stopped" };
const PULL_TYPES = { "genesys-notifications": "Genesys Cloud notifications" };
const PULL_COUNTERS = [["events", "Events"], ["duplicates", "Duplicates"], ["heartbeats", "Heartbeats"],
  ["reconnects", "Reconnects"], ["backfilledEvents", "Backfilled events"], ["errors", "Errors"]];

function pullState(p) {
  return badge(p.state, PULL_STATE_CLASS[p.state] ?? p.state);
}

// a pulled source has no endpoint: the gateway holds its channels open, so the card says how they are
function pullCard(s) {
  const p = s.pull;
  const channels = p.channels ?? [];
  return `<section class="card pull" data-name="${esc(s.name)}">
    <div class="page-head"><h2>${esc(s.name)} <span class="muted">${esc(PULL_TYPES[s.type] ?? s.type)}</span></h2>
      <span data-field="state">${pullState(p)}</span></div>
    <dl class="kv">
      <dt>API host</dt><dd class="mono">${esc(p.apiHost)}</dd>
      <dt>Topics</dt><dd data-field="topics">${esc(p.topics)}</dd>
      <dt>Last message</dt><dd data-field="lastMessageAt">${agoTitled(p.lastMessageAt)}</dd>
      <dt>Covered until</dt><dd data-field="coveredUntil">${p.coveredUntil ? `${esc(when(p.coveredUntil))} <span class="muted">(${esc(ago(p.coveredUntil))})</span>` : '<span class="muted">not yet: coverage starts at the first connection</span>'}</dd>
      <dt>Backfilling</dt><dd data-field="backfilling">${p.backfilling ? badge("yes", "warn") : "no"}</dd>
      <dt>Last error</dt><dd data-field="lastError">${p.lastError ? `<span class="error">${esc(p.lastError)}</span><div class="muted">${esc(when(p.lastErrorAt))}</div>` : '<span class="muted">none</span>'}</dd>
    </dl>
    <div class="counters">${PULL_COUNTERS.map(([key, label]) =>
      `<div class="counter" data-counter="${key}"><div class="muted">${label}</div><div class="value">${esc(p[key] ?? 0)}</div></div>`).join("")}</div>
    <h3>Channels <span class="muted">(${channels.length})</span></h3>
    ${channels.length === 0 ? '<p class="muted">No channel is open.</p>' : `
    <table class="channels"><thead><tr><th>Channel</th><th class="num">Topics</th><th>Connected since</th><th>Expires</th></tr></thead><tbody>
    ${channels.map((c) => `<tr data-channel="${esc(c.id)}"><td class="mono">${esc(c.id)}</td><td class="num">${esc(c.topics)}</td>
      <td>${agoTitled(c.connectedSince)}</td><td>${agoTitled(c.expires)}</td></tr>`).join("")}</tbody></table>`}
  </section>`;
}

async function sources() {
  const draw = async () => {
    const { countedSince, items } = await api("/sources");
    const pulled = items.filter((s) => s.pull);
    const html = `
    <div class="page-head"><h1>Sources</h1><span class="muted">counted since ${esc(when(countedSince))}; refreshed every 5 s</span></div>
    ${items.length === 0 ? empty("No sources", "Add one under sources: in the configuration; it receives at /hooks/<name>.") : `
    <table id="source-table"><thead><tr><th>Source</th><th>Verification</th><th class="num">Accepted</th><th class="num">Duplicate</th>
      <th class="num">Quarantined</th>${REJECTION_COLUMNS.map((s) => `<th class="num">${s}</th>`).join("")}</tr></thead><tbody>
    ${items.map((s) => {
      const byStatus = {};
      for (const [reason, n] of Object.entries(s.rejections)) {
        const status = REJECTION_STATUS[reason] ?? 0;
        byStatus[status] = (byStatus[status] ?? 0) + n;
      }
      const reasons = Object.entries(s.rejections).filter(([, n]) => n).map(([r, n]) => `${r}: ${n}`).join(", ");
      const where = s.pull ? `<div class="muted">${esc(PULL_TYPES[s.type] ?? s.type)}</div>`
        : s.path ? `<div class="muted mono">${esc(s.path)}</div>` : "";
      const verification = s.pull ? `${pullState(s.pull)} <span class="muted">pulled by the gateway</span>`
        : `${esc(s.verify.scheme)}${s.verify.secrets ? ` <span class="muted">(${esc(s.verify.secrets)} secret${s.verify.secrets > 1 ? "s" : ""})</span>` : ""}`;
      return `<tr data-name="${esc(s.name)}" data-type="${esc(s.type)}"><td><strong>${esc(s.name)}</strong>${where}</td>
        <td>${verification}</td>
        <td class="num">${esc(s.requests.accepted ?? 0)}</td><td class="num">${esc(s.requests.duplicate ?? 0)}</td>
        <td class="num">${esc(s.requests.quarantined ?? 0)}</td>
        ${REJECTION_COLUMNS.map((st) => `<td class="num" data-status="${st}" title="${esc(reasons)}">${byStatus[st] ?? 0}</td>`).join("")}</tr>`;
    }).join("")}</tbody></table>
    <p class="muted">Rejections by the HTTP status the sender saw: 401 signature, 403 address not allowed, 413 too large,
      415 media type, 400 invalid body or key, 429 rate limited, 503 gateway busy or stopping. Hover a row for the reasons.</p>`}
    ${pulled.length === 0 ? "" : `<h2 class="section">Pulled sources</h2>
    <p class="muted">The gateway opens these itself and keeps their channels connected; "covered until" is the time up to which
      every event is stored, and a gap after it is backfilled when the channels connect again.</p>
    <div id="pull-sources">${pulled.map(pullCard).join("")}</div>`}`;
    // redraw only on change, so a refresh does not reset a selection or a hover
    if (html !== lastSources) main().innerHTML = html;
    lastSources = html;
  };
  let lastSources = null;
  await draw();
  every(draw);
}

// ---------------------------------------------------------------- start

if (sessionStorage.getItem(TOKEN_KEY)) {
  $("#shell").hidden = false;
  route();
} else {
  showLogin();
}
