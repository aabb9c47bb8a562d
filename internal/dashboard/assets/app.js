// MiniBit dashboard: follows the tracker's server-sent events and draws the swarm list, one
// swarm's progress, its piece-availability map (a canvas) and its peers. Plain JavaScript, no
// dependencies; every update is drawn at most once per animation frame.
"use strict";

const $ = (id) => document.getElementById(id);
const HISTORY = 240; // points of the throughput chart (2 minutes at two updates per second)

const state = {
  swarms: [],         // the last ListView's swarms
  selected: null,     // key (name or info-hash) of the swarm shown
  view: null,         // the last SwarmView
  receivedAt: 0,      // performance.now() when view arrived
  openedAt: 0,        // performance.now() when the shown swarm's stream was opened
  history: [],        // {t, down, up} for the chart
  listSource: null,
  swarmSource: null,
  rows: new Map(),    // peerId -> row elements
  drawPending: false,
  mapGeom: null,      // geometry of the last map drawing, for the hover tip
};

// ---------- formatting ----------

function fmtBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : 1)) + " " + units[i];
}
const fmtRate = (n) => (n > 0 ? fmtBytes(n) + "/s" : "idle");
function fmtDuration(s) {
  if (s == null || !isFinite(s)) return "–";
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (x) => String(x).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}
const fmtClock = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });
const pct = (p) => (p >= 1 ? "100%" : (Math.floor(p * 1000) / 10).toFixed(1) + "%");
const keyOf = (s) => s.name || s.infoHash;
const sinceUpdate = () => (state.view ? (performance.now() - state.receivedAt) / 1000 : 0);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}
function setText(e, text) { if (e.textContent !== text) e.textContent = text; }

// ---------- event streams ----------

function setConn(s, text) {
  $("conn").dataset.state = s;
  setText($("conn-text"), text);
}

function openList() {
  const src = new EventSource("/api/v1/events");
  src.addEventListener("open", () => setConn("live", "live"));
  src.addEventListener("error", () => setConn("down", "reconnecting…"));
  src.addEventListener("swarms", (e) => {
    state.swarms = JSON.parse(e.data).swarms || [];
    const pick = choose(state.swarms);
    if (pick && (keyOf(pick) !== state.selected || streamRefused())) select(keyOf(pick));
    drawList();
  });
  state.listSource = src;
}

// choose returns the swarm to show: the one shown while it exists, else the one the address
// names (#swarm=...), else the first; so a tracker with one swarm always opens on its panel.
function choose(swarms) {
  const shown = swarms.find((s) => keyOf(s) === state.selected);
  if (shown) return shown;
  const fromHash = decodeURIComponent(location.hash.replace(/^#swarm=/, ""));
  return swarms.find((s) => keyOf(s) === fromHash) || swarms[0];
}

// streamRefused tells whether the shown swarm's stream was refused (an HTTP error: the browser
// does not retry those) at least two seconds ago; the next list update then opens it again.
function streamRefused() {
  const src = state.swarmSource;
  return src != null && src.readyState === EventSource.CLOSED && performance.now() - state.openedAt > 2000;
}

function select(key) {
  if (state.swarmSource) state.swarmSource.close();
  state.selected = key;
  state.view = null;
  state.history = [];
  state.rows.clear();
  $("peers").replaceChildren();
  history.replaceState(null, "", "#swarm=" + encodeURIComponent(key));
  drawPending(state.swarms.find((s) => keyOf(s) === key));
  state.openedAt = performance.now();
  const src = new EventSource("/api/v1/swarms/" + encodeURIComponent(key) + "/events");
  src.addEventListener("swarm", (e) => {
    state.view = JSON.parse(e.data);
    state.receivedAt = performance.now();
    const v = state.view;
    state.history.push({ t: Date.now(), down: v.downloadRate, up: v.uploadRate });
    if (state.history.length > HISTORY) state.history.shift();
    schedule();
  });
  src.addEventListener("missing", () => { setText($("swarm-status"), "gone"); });
  state.swarmSource = src;
  drawList();
}

// drawPending opens the panel of swarm s at once, from its line in the list, until its own
// stream's first update draws the rest.
function drawPending(s) {
  if (!s) return;
  $("detail").hidden = false;
  setText($("swarm-name"), s.name || s.infoHash);
  setText($("swarm-meta"), s.length ? fmtBytes(s.length) : "\u00a0");
  const fill = $("overall-fill");
  fill.style.width = (s.progress * 100).toFixed(2) + "%";
  fill.classList.remove("done");
  $("overall").dataset.progress = String(s.progress);
  setText($("overall"), pct(s.progress));
  $("swarm-status").classList.remove("done");
  setText($("swarm-status"), "connecting…");
}

function schedule() {
  if (state.drawPending) return;
  state.drawPending = true;
  requestAnimationFrame(() => { state.drawPending = false; drawSwarm(); });
}

// ---------- swarm list ----------

function drawList() {
  const nav = $("swarms");
  if (state.swarms.length === 0) {
    nav.replaceChildren(el("p", "empty", "Waiting for the tracker to hear of a swarm…"));
    return;
  }
  const chips = state.swarms.map((s) => {
    const b = el("button", "swarm-chip");
    b.type = "button";
    b.setAttribute("aria-current", String(keyOf(s) === state.selected));
    b.append(el("b", null, s.name || s.infoHash.slice(0, 12) + "…"));
    const track = el("div", "mini-track"), fill = el("div", "mini-fill");
    fill.style.width = (s.progress * 100).toFixed(1) + "%";
    track.append(fill);
    b.append(track, el("small", null,
      `${pct(s.progress)} · ${s.seeders + s.leechers} peers · ↓ ${fmtRate(s.downloadRate)}`));
    b.addEventListener("click", () => select(keyOf(s)));
    return b;
  });
  nav.replaceChildren(...chips);
}

// ---------- one swarm ----------

function drawSwarm() {
  const v = state.view;
  if (!v) return;
  $("detail").hidden = false;
  setText($("swarm-name"), v.name || v.infoHash);
  const meta = [];
  if (v.length) meta.push(fmtBytes(v.length));
  if (v.pieces) meta.push(`${v.pieces} pieces of ${fmtBytes(v.pieceLength)}`);
  meta.push("info-hash " + v.infoHash.slice(0, 12) + "…");
  setText($("swarm-meta"), meta.join(" · "));
  drawSummary(v);
  drawPeers(v);
  drawMap(v);
  drawChart();
  tick();
}

function drawSummary(v) {
  const fill = $("overall-fill");
  fill.style.width = (v.progress * 100).toFixed(2) + "%";
  fill.classList.toggle("done", v.done);
  $("overall").dataset.progress = String(v.progress);
  setText($("overall"), pct(v.progress));
  const finished = v.peers.filter((p) => p.completedAt).length;
  const leechers = v.peers.filter((p) => !p.seeder).length;
  setText($("delivered"), v.done
    ? `Delivered: ${v.completed} peers completed, the last at ${fmtClock(v.lastCompletedAt)}.`
    : `${finished} of ${finished + leechers} downloading peers delivered · ${v.completed} completions so far`);
  const pill = $("swarm-status");
  pill.classList.toggle("done", v.done);
  setText(pill, v.done ? "delivered" : leechers > 0 ? "delivering" : "waiting for peers");
  setText($("down"), fmtRate(v.downloadRate));
  setText($("up"), fmtRate(v.uploadRate));
  setText($("active"), `${v.activePeers} / ${v.peers.length}`);
  setText($("counts"), `${v.seeders} · ${v.leechers}`);
  setText($("heartbeat"), v.heartbeatSeconds ? fmtDuration(v.heartbeatSeconds) : "?");
  setText($("peer-count"), `(${v.peers.length})`);
}

// tick refreshes what moves with the clock between updates: elapsed time and ETAs.
function tick() {
  const v = state.view;
  if (!v) return;
  const dt = v.done ? 0 : sinceUpdate();
  setText($("elapsed"), v.startedAt ? fmtDuration(v.elapsedSeconds + dt) : "–");
  setText($("eta"), v.done ? "done" : v.etaSeconds != null ? fmtDuration(v.etaSeconds - sinceUpdate()) : "–");
}

function sortPeers(peers) {
  const by = $("sort").value;
  const name = (p) => p.name || `${p.ip}:${p.port}`;
  const cmp = {
    name: (a, b) => name(a).localeCompare(name(b), undefined, { numeric: true }),
    progress: (a, b) => b.progress - a.progress || name(a).localeCompare(name(b)),
    speed: (a, b) => b.downloadRate + b.uploadRate - (a.downloadRate + a.uploadRate) || name(a).localeCompare(name(b)),
  }[by];
  return [...peers].sort(cmp);
}

function newRow(p) {
  const r = { root: el("div", "peer") };
  r.root.dataset.peer = p.peerId;
  const who = el("div", "who");
  r.dot = el("span", "dot");
  const names = el("div");
  r.name = el("b");
  r.addr = el("small");
  names.append(r.name, r.addr);
  who.append(r.dot, names);
  const track = el("div", "track");
  r.fill = el("div", "fill");
  r.marker = el("div", "marker");
  track.append(r.fill, el("span", "flag"), r.marker);
  r.pct = el("div", "pct");
  const rates = el("div", "rates");
  r.down = el("span", "d");
  r.up = el("span", "u");
  rates.append(r.down, r.up);
  r.when = el("div", "when");
  r.badge = el("span", "badge");
  r.eta = el("span", "eta");
  r.health = el("span", "health");
  const line = el("div", "line");
  line.append(r.badge, r.eta);
  r.when.append(line, r.health);
  r.root.append(who, track, r.pct, rates, r.when);
  return r;
}

function drawPeers(v) {
  const list = $("peers");
  list.classList.toggle("compact", v.peers.length > 24);
  const seen = new Set();
  const ordered = sortPeers(v.peers);
  ordered.forEach((p, i) => {
    seen.add(p.peerId);
    let r = state.rows.get(p.peerId);
    if (!r) { r = newRow(p); state.rows.set(p.peerId, r); }
    updateRow(r, p, v);
    if (list.children[i] !== r.root) list.insertBefore(r.root, list.children[i] || null);
  });
  for (const [id, r] of state.rows) {
    if (!seen.has(id)) { r.root.remove(); state.rows.delete(id); }
  }
}

function updateRow(r, p, v) {
  r.root.dataset.state = p.state;
  r.root.dataset.name = p.name || "";
  r.root.dataset.progress = String(p.progress);
  setText(r.name, p.name || `${p.ip}:${p.port}`);
  const pieces = p.piecesHave != null && v.pieces ? ` · ${p.piecesHave}/${v.pieces} pieces` : "";
  setText(r.addr, `${p.ip}:${p.port}${pieces}`);
  const w = (p.progress * 100).toFixed(1) + "%";
  r.fill.style.width = w;
  r.marker.style.left = w;
  setText(r.pct, pct(p.progress));
  setText(r.down, "↓ " + fmtRate(p.downloadRate));
  setText(r.up, "↑ " + fmtRate(p.uploadRate));
  setText(r.badge, p.state === "choked" ? "choked by most" : p.state);
  let when = "";
  if (p.completedAt) {
    when = `done ${fmtClock(p.completedAt)} in ${fmtDuration((Date.parse(p.completedAt) - Date.parse(p.startedAt)) / 1000)}`;
  } else if (p.seeder) {
    when = `seeding since ${fmtClock(p.startedAt)}`;
  } else if (p.etaSeconds != null) {
    when = `arrives in ${fmtDuration(p.etaSeconds)}`;
  } else {
    when = `joined ${fmtClock(p.startedAt)}`;
  }
  setText(r.eta, when);
  const h = p.health;
  let health = "";
  if (h) {
    const parts = [];
    if (h.chokedBy > 0) parts.push(`choked by ${h.chokedBy}/${h.connected}`);
    if (h.bans > 0) parts.push(`banned ${h.bans}`);
    if (h.hashFailures > 0) parts.push(`${h.hashFailures} bad pieces`);
    health = parts.join(" · ");
  }
  setText(r.health, health);
}

// ---------- availability map ----------

// availColor maps a piece's holder count to a colour: red when no peer holds it, then orange
// (rare) to green (held by every peer).
function availColor(count, total) {
  if (count <= 0) return "#ef4444";
  const t = total > 1 ? Math.min(1, (count - 1) / (total - 1)) : 1;
  const hue = 28 + t * 122;
  return `hsl(${hue.toFixed(0)} 78% ${(50 - t * 8).toFixed(0)}%)`;
}

function drawMap(v) {
  const canvas = $("map");
  const avail = v.availability || [];
  const note = $("map-note");
  if (avail.length === 0) {
    setText(note, "needs the swarm's .torrent on the tracker");
    canvas.height = 0;
    state.mapGeom = null;
    return;
  }
  const total = Math.max(1, v.availabilityPeers || 0);
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || 600;
  // Cells as large as fit in about 220 CSS pixels of height, between 2 and 24 pixels; beyond
  // that, one cell stands for several pieces and shows the rarest of them.
  let cell = Math.floor(Math.sqrt((cssW * 220) / avail.length));
  cell = Math.max(2, Math.min(24, cell));
  const cols = Math.max(1, Math.floor(cssW / cell));
  const perCell = Math.max(1, Math.ceil(avail.length / (cols * Math.floor(220 / cell))));
  const cells = Math.ceil(avail.length / perCell);
  const rows = Math.ceil(cells / cols);
  const cssH = rows * cell;
  canvas.style.height = cssH + "px";
  canvas.width = Math.round(cssW * dpr);
  canvas.height = Math.round(cssH * dpr);
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  const gap = cell >= 6 ? 1 : 0;
  let missing = 0, rarest = Infinity, sum = 0;
  for (const c of avail) { if (c === 0) missing++; rarest = Math.min(rarest, c); sum += c; }
  for (let i = 0; i < cells; i++) {
    let min = Infinity;
    for (let j = i * perCell; j < Math.min(avail.length, (i + 1) * perCell); j++) min = Math.min(min, avail[j]);
    ctx.fillStyle = availColor(min, total);
    ctx.fillRect((i % cols) * cell, Math.floor(i / cols) * cell, cell - gap, cell - gap);
  }
  state.mapGeom = { cell, cols, perCell, cells };
  setText($("legend-max"), `by all ${total}`);
  const spread = perCell > 1 ? ` · each cell ${perCell} pieces` : "";
  setText(note, `${avail.length} pieces · rarest held by ${rarest} · mean ${(sum / avail.length).toFixed(1)}` +
    (missing ? ` · ${missing} held by none` : "") + spread);
}

function mapTip(ev) {
  const g = state.mapGeom, v = state.view;
  if (!g || !v) return;
  const rect = $("map").getBoundingClientRect();
  const col = Math.floor((ev.clientX - rect.left) / g.cell), row = Math.floor((ev.clientY - rect.top) / g.cell);
  const i = row * g.cols + col;
  if (col < 0 || col >= g.cols || i < 0 || i >= g.cells) return;
  const first = i * g.perCell, last = Math.min(v.availability.length, first + g.perCell) - 1;
  const counts = v.availability.slice(first, last + 1);
  const label = first === last ? `piece ${first}` : `pieces ${first}–${last}`;
  setText($("map-tip"), `${label}: held by ${Math.min(...counts)}${first === last ? "" : "+"} of ${v.availabilityPeers} peers`);
}

// ---------- throughput chart ----------

function drawChart() {
  const canvas = $("chart");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 400, h = Math.max(150, canvas.clientHeight || 150);
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext("2d");
  ctx.scale(dpr, dpr);
  const pts = state.history;
  ctx.fillStyle = "#8b97b3";
  ctx.font = "11px system-ui, sans-serif";
  if (pts.length < 2) {
    ctx.fillText("collecting…", 10, 20);
    return;
  }
  const peak = Math.max(1, ...pts.map((p) => Math.max(p.down, p.up)));
  const t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
  const x = (t) => 4 + ((t - t0) / (t1 - t0)) * (w - 8);
  const y = (r) => h - 18 - (r / peak) * (h - 34);
  ctx.strokeStyle = "#24304d";
  ctx.lineWidth = 1;
  for (const f of [0, 0.5, 1]) {
    ctx.beginPath(); ctx.moveTo(0, y(peak * f)); ctx.lineTo(w, y(peak * f)); ctx.stroke();
  }
  const line = (key, color, fill) => {
    ctx.beginPath();
    pts.forEach((p, i) => (i ? ctx.lineTo(x(p.t), y(p[key])) : ctx.moveTo(x(p.t), y(p[key]))));
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.stroke();
    if (fill) {
      ctx.lineTo(x(pts[pts.length - 1].t), y(0)); ctx.lineTo(x(pts[0].t), y(0)); ctx.closePath();
      ctx.fillStyle = fill; ctx.fill();
    }
  };
  line("down", "#38bdf8", "rgba(56,189,248,.15)");
  line("up", "#f59e0b", null);
  ctx.fillStyle = "#8b97b3";
  ctx.fillText("peak " + fmtRate(peak), 8, 12);
  ctx.fillText(fmtDuration((t1 - t0) / 1000) + " shown", w - 80, h - 4);
}

// ---------- start ----------

document.addEventListener("DOMContentLoaded", () => {
  $("sort").addEventListener("change", schedule);
  $("map").addEventListener("mousemove", mapTip);
  window.addEventListener("resize", schedule);
  setInterval(tick, 1000);
  openList();
});
