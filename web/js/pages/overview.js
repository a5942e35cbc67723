// Overview: every check as a tile coloured by its state with a sparkline
// of its main series, the open incidents by priority, the heals of the
// last 24 hours; kept current from the live stream without a reload.

import { el, mount, errorBox, badge, priority, time, link, title, announce } from '../ui.js';
import { sparkline, STATE_COLORS } from '../charts.js';

const HEALS_WINDOW_MS = 24 * 3600 * 1000;
// Checks whose history is fetched at once (one request each).
const HISTORY_PARALLEL = 6;
// The stream carries state changes only: summaries and sparklines are
// refreshed this often (and a missed message is caught up).
const REFRESH_MS = 30 * 1000;

// The series a tile draws: the first sample's (the check's main reading), else the status.
function mainSeries(history) {
  if (!Array.isArray(history) || !history.length) return null;
  return history.find((s) => s.label !== 'status' && s.points && s.points.length) ||
    history.find((s) => s.label === 'status') || null;
}

function prioNum(p) {
  const n = Number(String(p).replace(/^P/i, ''));
  return n >= 1 && n <= 5 ? n : 5;
}

export async function render(root, ctx) {
  title('Overview');
  const checksList = el('ul', { class: 'tiles', id: 'tiles', 'aria-label': 'Checks' });
  const incidentsBox = el('div', { id: 'open-incidents', class: 'prio-groups' });
  const healsBox = el('div', { id: 'heals' });
  const stats = {
    checks: el('span', { class: 'n', id: 'stat-checks' }, '…'),
    failing: el('span', { class: 'n', id: 'stat-failing' }, '…'),
    open: el('span', { class: 'n', id: 'stat-open' }, '…'),
    heals: el('span', { class: 'n', id: 'stat-heals' }, '…'),
  };
  mount(root,
    el('h1', {}, 'Overview'),
    el('section', { class: 'summary', 'aria-label': 'Summary' },
      el('div', { class: 'stat' }, stats.checks, 'checks'),
      el('div', { class: 'stat' }, stats.failing, 'checks not ok'),
      el('div', { class: 'stat' }, stats.open, 'open incidents'),
      el('div', { class: 'stat' }, stats.heals, 'heals in 24 h')),
    el('div', { class: 'two' },
      el('section', { 'aria-labelledby': 'h-incidents' }, el('h2', { id: 'h-incidents' }, 'Open incidents by priority'), incidentsBox),
      el('section', { 'aria-labelledby': 'h-heals' }, el('h2', { id: 'h-heals' }, 'Heals in the last 24 hours'), healsBox)),
    el('section', { 'aria-labelledby': 'h-checks' }, el('h2', { id: 'h-checks' }, 'Checks'), checksList));

  const checks = new Map(); // name -> check (from /checks)
  const tiles = new Map(); // name -> {li, ...}
  const open = new Map(); // id -> incident

  // ---- checks ----
  function tile(c) {
    const st = c.status || 'unknown';
    const spark = el('div', { class: 'spark-slot' });
    const li = el('li', { class: `tile ${st}`, dataset: { check: c.name, state: st } },
      el('div', { class: 'tile-head' }, el('span', { class: 'tile-name' }, c.name), badge(st)),
      el('div', { class: 'tile-summary' }, c.summary || (c.last_run ? '' : 'not run yet')),
      spark);
    return { li, spark };
  }

  function renderTiles() {
    const list = [...checks.values()];
    const order = { critical: 0, warning: 1, unknown: 2, ok: 3 };
    list.sort((a, b) => (order[a.status] ?? 2) - (order[b.status] ?? 2) || a.name.localeCompare(b.name));
    const items = list.map((c) => {
      let t = tiles.get(c.name);
      if (!t || t.li.dataset.state !== (c.status || 'unknown') || t.summary !== c.summary) {
        const fresh = tile(c);
        if (t && t.history) drawSpark(fresh, t.history);
        fresh.summary = c.summary;
        fresh.history = t && t.history;
        tiles.set(c.name, fresh);
        t = fresh;
      }
      return t.li;
    });
    mount(checksList, items.length ? items : el('li', { class: 'muted' }, 'No checks are configured.'));
    stats.checks.textContent = String(list.length);
    stats.failing.textContent = String(list.filter((c) => c.status && c.status !== 'ok').length);
  }

  function drawSpark(t, history) {
    const s = mainSeries(history);
    if (!s) return;
    const color = s.label === 'status' ? STATE_COLORS.critical : undefined;
    mount(t.spark, sparkline(s.points.slice(-120), { label: s.label, unit: s.unit, color }));
  }

  async function loadHistory(name) {
    try {
      const d = await ctx.api.get(`checks/${encodeURIComponent(name)}`, null, { signal: ctx.signal });
      const t = tiles.get(name);
      if (!t) return;
      t.history = d.history;
      drawSpark(t, d.history);
    } catch (e) {
      if (e.name !== 'AbortError') console.warn(`history of ${name}:`, e.reason || e.message);
    }
  }

  async function loadChecks() {
    const d = await ctx.api.get('checks', null, { signal: ctx.signal });
    checks.clear();
    for (const c of d.checks || []) checks.set(c.name, c);
    renderTiles();
    const names = [...checks.keys()];
    for (let i = 0; i < names.length; i += HISTORY_PARALLEL) {
      await Promise.all(names.slice(i, i + HISTORY_PARALLEL).map(loadHistory));
    }
  }

  // ---- incidents ----
  function renderIncidents(freshId) {
    const groups = new Map();
    for (const i of open.values()) {
      const p = prioNum(i.priority);
      if (!groups.has(p)) groups.set(p, []);
      groups.get(p).push(i);
    }
    stats.open.textContent = String(open.size);
    if (!open.size) {
      mount(incidentsBox, el('p', { class: 'muted' }, 'No open incidents.'));
      return;
    }
    mount(incidentsBox, [...groups.keys()].sort().map((p) => el('div', { class: 'prio-group' },
      el('h3', {}, priority(p), ` ${groups.get(p).length} open`),
      el('ul', { class: 'incident-list' }, groups.get(p).sort((a, b) => b.id - a.id).map((i) =>
        el('li', { class: i.id === freshId ? 'fresh' : '', dataset: { incident: String(i.id) } },
          link(`#/incidents/${i.id}`, `#${i.id} ${i.title}`), badge(i.state),
          i.service ? el('span', { class: 'muted' }, i.service) : null,
          el('span', { class: 'muted' }, 'opened ', time(i.opened))))))));
  }

  async function loadIncidents() {
    const d = await ctx.api.get('incidents', { state: 'open', limit: 500 }, { signal: ctx.signal });
    open.clear();
    for (const i of d.incidents || []) if (i.type !== 'request') open.set(i.id, i);
    renderIncidents();
  }

  // ---- heals ----
  async function loadHeals() {
    const d = await ctx.api.get('runs', { outcome: 'healed', limit: 200 }, { signal: ctx.signal });
    const since = Date.now() - HEALS_WINDOW_MS;
    const heals = (d.runs || []).filter((r) => r.ended && Date.parse(r.ended) >= since);
    stats.heals.textContent = String(heals.length);
    mount(healsBox, heals.length
      ? el('ul', { class: 'heals' }, heals.slice(0, 10).map((r) => el('li', {},
        link(`#/runs/${r.id}`, `${r.runbook}`), r.target && r.target !== r.runbook ? ` on ${r.target}` : '',
        r.incident ? [' for ', link(`#/incidents/${r.incident}`, `#${r.incident}`)] : null,
        ' ', el('span', { class: 'muted' }, time(r.ended)))))
      : el('p', { class: 'muted' }, 'No heals in the last 24 hours.'));
  }

  function guard(p, box) {
    return p.catch((e) => { if (e.name !== 'AbortError') mount(box, errorBox(e)); });
  }

  // ---- live ----
  ctx.on('incident', (i) => {
    if (i.type === 'request') return;
    const isOpen = ['new', 'acknowledged', 'in_progress'].includes(i.state);
    const known = open.has(i.id);
    if (isOpen) open.set(i.id, i); else open.delete(i.id);
    renderIncidents(isOpen && !known ? i.id : undefined);
    if (isOpen && !known) announce(`New incident #${i.id}: ${i.title}`);
    if (i.state === 'resolved' && i.resolved_by === 'hale') guard(loadHeals(), healsBox);
  });
  ctx.on('check', (m) => {
    const c = checks.get(m.check);
    if (!c) { guard(loadChecks(), checksList); return; }
    c.status = m.status;
    c.summary = m.summary;
    renderTiles();
    loadHistory(m.check);
  });
  ctx.on('reset', () => { reload(); });

  function reload() {
    return Promise.all([guard(loadIncidents(), incidentsBox), guard(loadHeals(), healsBox), guard(loadChecks(), checksList)]);
  }
  const timer = setInterval(() => { loadChecks().catch(() => {}); }, REFRESH_MS);
  reload();
  return () => clearInterval(timer);
}
