// The l402 serve dashboard: plain JavaScript over the admin API (/api/v1), no build step, no
// third-party code. The admin macaroon stays in this tab's sessionStorage.
"use strict";

const KEY = "l402-admin-macaroon";
const COLORS = ["#f7931a", "#3b82f6", "#10b981", "#8b5cf6", "#ef4444", "#14b8a6", "#eab308", "#64748b"];
const OUTCOMES = [
  ["paid", "#1f9d55", "paid"],
  ["free", "#93c5fd", "free"],
  ["challenged", "#f7931a", "402"],
  ["rate_limited", "#a78bfa", "429 rate"],
  ["too_many_unpaid", "#c4b5fd", "429 unpaid"],
  ["unavailable", "#d64545", "503"],
];
const $ = (id) => document.getElementById(id);
let role = "read";
let seenPayments = new Set();
let timer = null;

function macaroon() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const fromHash = hash.get("macaroon");
  if (fromHash) {
    sessionStorage.setItem(KEY, fromHash.trim());
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem(KEY);
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { Authorization: `Bearer ${macaroon() || ""}`, "Content-Type": "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const e = body.error || {};
    throw new ApiError(response.status, e.code || "error", e.message || response.statusText);
  }
  return body;
}

function sat(msat) {
  const n = Number(msat || 0);
  return n % 1000 === 0 ? `${(n / 1000).toLocaleString("en")} sat` : `${(n / 1000).toFixed(3)} sat`;
}

function ago(unix) {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unix));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(unix * 1000).toLocaleString();
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function colorOf(services) {
  const map = new Map();
  services.forEach((s, i) => map.set(s, COLORS[i % COLORS.length]));
  return map;
}

function utcDay(offset) {
  const d = new Date(Date.now() - offset * 86400000);
  return d.toISOString().slice(0, 10);
}

function renderRevenueChart(stats, colors) {
  const box = $("revenue-chart");
  box.replaceChildren();
  const days = [];
  for (let i = stats.days - 1; i >= 0; i--) days.push(utcDay(i));
  const byDay = new Map(days.map((d) => [d, []]));
  for (const row of stats.revenue_by_day) byDay.get(row.day)?.push(row);
  const totals = days.map((d) => byDay.get(d).reduce((a, r) => a + r.revenue_msat, 0));
  const max = Math.max(...totals, 1);
  if (totals.every((t) => t === 0)) {
    box.append(el("div", { class: "empty", text: "Nothing settled in the last 30 days yet." }));
    return;
  }
  const W = 1000, H = 220, pad = 28, bw = (W - pad) / days.length;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none" });
  chart.append(svg("line", { x1: pad, y1: H - 20, x2: W, y2: H - 20, stroke: "#e3e6ec" }));
  days.forEach((day, i) => {
    let y = H - 20;
    for (const row of byDay.get(day)) {
      const h = ((H - 40) * row.revenue_msat) / max;
      y -= h;
      const rect = svg("rect", {
        x: pad + i * bw + 2, y, width: Math.max(bw - 4, 1), height: h, rx: 2,
        fill: colors.get(row.service) || COLORS[7],
      });
      const title = svg("title");
      title.textContent = `${day} ${row.service}: ${sat(row.revenue_msat)} (${row.settled} paid)`;
      rect.append(title);
      chart.append(rect);
    }
  });
  const label = (x, text, anchor) => {
    const t = svg("text", { x, y: H - 4, "font-size": 12, fill: "#6b7385", "text-anchor": anchor });
    t.textContent = text;
    chart.append(t);
  };
  label(pad, days[0], "start");
  label(W, days[days.length - 1], "end");
  const top = svg("text", { x: 0, y: 14, "font-size": 12, fill: "#6b7385" });
  top.textContent = sat(max);
  chart.append(top);
  box.append(chart);
  const legend = $("revenue-legend");
  legend.replaceChildren();
  const earning = new Set(stats.revenue_by_day.map((r) => r.service));
  for (const [service, color] of colors) {
    if (!earning.has(service)) continue;
    const i = el("i");
    i.style.background = color;
    legend.append(el("span", {}, i, service));
  }
}

function renderBars(box, rows, empty) {
  box.replaceChildren();
  if (rows.length === 0) {
    box.append(el("div", { class: "empty", text: empty }));
    return;
  }
  const max = Math.max(...rows.map((r) => r.total), 1);
  for (const r of rows) {
    const track = el("div", { class: "track" });
    for (const s of r.segments) {
      const seg = el("div", { class: "seg", title: s.title });
      seg.style.width = `${(100 * s.value) / max}%`;
      seg.style.background = s.color;
      track.append(seg);
    }
    box.append(el("div", { class: "row" }, el("span", { class: "name", text: r.name, title: r.name }), track, el("span", { class: "num", text: r.label })));
  }
}

function renderTables(invoices, revocations, services) {
  const body = $("payments").tBodies[0];
  body.replaceChildren();
  const revoked = new Set(revocations.revocations.map((r) => r.token_id));
  for (const inv of invoices.invoices) {
    const button = el("button", { class: "danger", text: revoked.has(inv.token_id) ? "Revoked" : "Revoke", "data-token": inv.token_id });
    button.disabled = role !== "full" || revoked.has(inv.token_id);
    if (role !== "full") button.title = "needs admin.macaroon (this one is read-only)";
    button.addEventListener("click", () => act("POST", inv.token_id, button));
    const row = el("tr", {}, el("td", { text: ago(inv.settled_at || inv.created_at) }), el("td", { text: inv.service }), el("td", { text: sat(inv.amount_msat) }), el("td", { class: "mono", text: inv.token_id.slice(0, 16) + "…", title: inv.token_id }), el("td", {}, button));
    if (seenPayments.size && !seenPayments.has(inv.payment_hash)) row.className = "fresh";
    body.append(row);
  }
  seenPayments = new Set(invoices.invoices.map((i) => i.payment_hash));
  if (invoices.invoices.length === 0) body.append(el("tr", {}, el("td", { colspan: 5, text: "No payment yet." })));

  const rbody = $("revocations").tBodies[0];
  rbody.replaceChildren();
  for (const r of revocations.revocations) {
    const button = el("button", { class: "ghost", text: "Restore", "data-restore": r.token_id });
    button.style.color = "inherit";
    button.disabled = role !== "full";
    button.addEventListener("click", () => act("DELETE", r.token_id, button));
    rbody.append(el("tr", {}, el("td", { class: "mono", text: r.token_id.slice(0, 16) + "…", title: r.token_id }), el("td", { text: ago(r.revoked_at) }), el("td", { text: r.reason }), el("td", {}, button)));
  }
  if (revocations.revocations.length === 0) rbody.append(el("tr", {}, el("td", { colspan: 4, text: "None." })));

  const sbody = $("services").tBodies[0];
  sbody.replaceChildren();
  for (const s of services.services) {
    const routes = s.routes.map((r) => `${r.methods.length ? r.methods.join(",") : "*"} ${r.path}: ${r.free ? "free" : r.price_sat + " sat"}`).join("; ");
    sbody.append(el("tr", {}, el("td", { text: s.name }), el("td", { class: "mono", text: s.path_prefix }), el("td", { text: (s.price_sat ? `${s.price_sat} sat` : "free") + sold(s.protocols) }), el("td", { text: routes || "–" })));
  }
}

// The schemes a service sells, shown after its price when it sells more than L402.
function sold(protocols) {
  if (!protocols || (protocols.length === 1 && protocols[0] === "l402")) return "";
  return " · " + protocols.map((p) => (p === "mpp" ? "Payment" : "L402")).join(" + ");
}

async function act(method, token, button) {
  button.disabled = true;
  try {
    await api(`/api/v1/tokens/${token}/revoke`, method === "POST" ? { method, body: JSON.stringify({ reason: "revoked from the dashboard" }) } : { method });
  } catch (e) {
    alert(`${e.code}: ${e.message}`);
  }
  await refresh();
}

function renderHealth(status) {
  const box = $("health");
  box.replaceChildren();
  const b = status.backend, s = status.store;
  box.append(
    el("span", { class: `pill ${b.ok ? "ok" : "bad"}`, text: `backend ${b.kind}${b.ok ? ` · ${b.network} · ${Math.round(b.latency_ms)} ms` : " · failing"}`, title: b.error || "" }),
    el("span", { class: `pill ${s.ok ? "ok" : "bad"}`, text: `store${s.ok ? ` · ${s.invoices} invoices` : " · failing"}` }),
    el("span", { class: "pill", text: `${status.role === "full" ? "full access" : "read-only"}` }),
  );
  $("footer").textContent = `l402 serve ${status.version} · up ${Math.round(status.uptime_secs / 60)} min`;
}

async function refresh() {
  let status, stats, invoices, revocations, services;
  try {
    [status, stats, invoices, revocations, services] = await Promise.all([
      api("/api/v1/status"),
      api("/api/v1/stats?days=30"),
      api("/api/v1/invoices?state=paid&limit=20"),
      api("/api/v1/revocations"),
      api("/api/v1/services"),
    ]);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showLogin(e.message);
    $("live-note").textContent = `(refresh failed: ${e.message})`;
    return;
  }
  role = status.role;
  $("login").hidden = true;
  $("app").hidden = false;
  $("logout").hidden = false;
  renderHealth(status);
  const today = utcDay(0);
  const todayMsat = stats.revenue_by_day.filter((r) => r.day === today).reduce((a, r) => a + r.revenue_msat, 0);
  const totals = Object.entries(stats.revenue_by_service);
  const monthMsat = totals.reduce((a, [, t]) => a + t.revenue_msat, 0);
  const paid = totals.reduce((a, [, t]) => a + t.settled, 0);
  const paidRequests = stats.requests_since_start.reduce((a, r) => a + (r.outcomes.paid || 0), 0);
  $("kpi-today").textContent = sat(todayMsat);
  $("kpi-today").dataset.msat = todayMsat;
  $("kpi-30d").textContent = sat(monthMsat);
  $("kpi-30d").dataset.msat = monthMsat;
  $("kpi-paid").textContent = paid.toLocaleString("en");
  $("kpi-requests").textContent = paidRequests.toLocaleString("en");
  const colors = colorOf(services.services.map((s) => s.name));
  renderRevenueChart(stats, colors);
  renderBars($("services-chart"), totals.sort((a, b) => b[1].revenue_msat - a[1].revenue_msat).map(([name, t]) => ({
    name, total: t.revenue_msat, label: sat(t.revenue_msat),
    segments: [{ value: t.revenue_msat, color: colors.get(name) || COLORS[7], title: `${t.settled} paid` }],
  })), "No revenue in the last 30 days yet.");
  renderBars($("routes-chart"), stats.requests_since_start.map((r) => {
    const total = OUTCOMES.reduce((a, [k]) => a + (r.outcomes[k] || 0), 0);
    return {
      name: `${r.service} ${r.route}`, total, label: total.toLocaleString("en"),
      segments: OUTCOMES.filter(([k]) => r.outcomes[k]).map(([k, color, name]) => ({ value: r.outcomes[k], color, title: `${name}: ${r.outcomes[k]}` })),
    };
  }).sort((a, b) => b.total - a.total), "No priced request since start.");
  renderTables(invoices, revocations, services);
  $("live-note").textContent = `(refreshes every 5 s · ${new Date().toLocaleTimeString()})`;
}

function showLogin(message) {
  clearInterval(timer);
  $("app").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

function open() {
  if (!macaroon()) return showLogin("");
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, 5000);
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("macaroon").value.trim());
    $("macaroon").value = "";
    open();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    showLogin("");
  });
  open();
});
