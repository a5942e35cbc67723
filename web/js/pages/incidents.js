// SPDX-License-Identifier: MIT
// The incidents page: every incident, newest first, filtered by state,
// team, priority, service and text, all asked of the API
// (GET /api/v1/incidents?state=&team=&priority=&service=&q=), so every page
// is of matching incidents. New incidents and changes arrive from the live
// stream and are kept when they match the same filters.
import { h, clear, link, fmtAgo, timeEl, badge, priorityBadge, errorText, failed } from './parts.js';

const STATES = ['new', 'acknowledged', 'in_progress', 'resolved', 'closed'];
const OPEN = ['new', 'acknowledged', 'in_progress'];
const PAGE = 100;

function initialFilters(params) {
  const p = params || {};
  return {
    state: p.state || 'open',
    team: p.team || '',
    priority: p.priority || '',
    service: p.service || '',
    q: p.q || '',
  };
}

// The API folds ASCII letters only when it looks for text in titles.
const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

// Whether an incident passes every filter as the API applies them: for
// those the live stream brings, which were not asked for.
function matches(inc, f) {
  if (f.state === 'open' ? !OPEN.includes(inc.state) : f.state !== 'all' && inc.state !== f.state) return false;
  if (f.team && inc.team !== f.team) return false;
  if (f.priority && inc.priority !== f.priority) return false;
  if (f.service && inc.service !== f.service) return false;
  if (f.q && !asciiLower(inc.title || '').includes(asciiLower(f.q))) return false;
  return true;
}

function selectField(id, label, value, options) {
  const sel = h('select', { id, name: id.replace('f-', '') },
    options.map(([v, text]) => h('option', { value: v, selected: v === value }, text)));
  return [h('div', { class: 'field' }, h('label', { for: id }, label), sel), sel];
}

function textField(id, label, value, placeholder) {
  const input = h('input', { id, type: 'search', name: id.replace('f-', ''), placeholder, autocomplete: 'off' });
  input.value = value;
  return [h('div', { class: 'field' }, h('label', { for: id }, label), input), input];
}

function row(inc) {
  return h('tr', { dataset: { id: inc.id, state: inc.state } },
    h('td', { 'data-label': 'Priority' }, priorityBadge(inc.priority)),
    h('td', { 'data-label': 'Incident', class: 'title-cell' },
      link(`/incidents/${inc.id}`, `#${inc.id} `, inc.title),
      inc.type === 'request' ? h('span', { class: 'badge type-request' }, 'request') : null),
    h('td', { 'data-label': 'State' }, badge('state', inc.state)),
    h('td', { 'data-label': 'Service' }, inc.service || '-'),
    h('td', { 'data-label': 'Team' }, inc.team || '-'),
    h('td', { 'data-label': 'Assignee' }, inc.assignee || '-'),
    h('td', { 'data-label': 'Opened' }, timeEl(inc.opened, fmtAgo(inc.opened))));
}

export function render(root, ctx) {
  const f = initialFilters(Object.fromEntries(ctx.query || []));
  let items = [];
  let cursor = null;
  let loading = false;
  let gone = false;

  const [stateField, stateSel] = selectField('f-state', 'State', f.state,
    [['open', 'open (new, acknowledged, in progress)'], ['all', 'all'], ...STATES.map((s) => [s, s.replace('_', ' ')])]);
  const [prioField, prioSel] = selectField('f-priority', 'Priority', f.priority,
    [['', 'any'], ...['P1', 'P2', 'P3', 'P4', 'P5'].map((p) => [p, p])]);
  const [teamField, teamIn] = textField('f-team', 'Team', f.team, 'exact name');
  const [svcField, svcIn] = textField('f-service', 'Service', f.service, 'exact name');
  const [qField, qIn] = textField('f-q', 'Text', f.q, 'in the title');

  const count = h('p', { class: 'count', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const table = h('table', { class: 'table incidents' },
    h('caption', { class: 'sr-only' }, 'Incidents, newest first'),
    h('thead', {}, h('tr', {}, ['Priority', 'Incident', 'State', 'Service', 'Team', 'Assignee', 'Opened']
      .map((t) => h('th', { scope: 'col' }, t)))),
    tbody);
  const error = h('p', { class: 'error-text', role: 'alert' });

  clear(root).append(
    h('h1', {}, 'Incidents'),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter incidents', onsubmit: (e) => e.preventDefault() },
      stateField, prioField, teamField, svcField, qField),
    error, count, h('div', { class: 'table-wrap' }, table), more);

  function show() {
    const shown = items.filter((i) => matches(i, f));
    clear(tbody);
    for (const inc of shown) tbody.appendChild(row(inc));
    if (!shown.length) {
      tbody.appendChild(h('tr', {}, h('td', { colspan: 7, class: 'muted' },
        loading ? 'Loading...' : 'No incident matches these filters.')));
    }
    const further = cursor ? ' (more to load)' : '';
    count.textContent = `${shown.length} incident${shown.length === 1 ? '' : 's'}${further}`;
    more.hidden = !cursor;
  }

  // Only the latest request's answer counts: filters may change while one is out.
  let asked = 0;
  async function load(reset) {
    const mine = ++asked;
    if (reset) { items = []; cursor = null; }
    loading = true;
    show();
    // Empty filters are left out of the query by api.js.
    const query = { ...f, state: f.state === 'all' ? '' : f.state, limit: PAGE, cursor };
    try {
      const res = await ctx.api.get('/api/v1/incidents', query);
      if (gone || mine !== asked) return;
      items = items.concat(res.incidents || []);
      cursor = res.next_cursor || null;
      error.textContent = '';
    } catch (err) {
      if (gone || mine !== asked) return;
      error.textContent = errorText(err);
    } finally {
      if (mine === asked) loading = false;
    }
    show();
  }

  stateSel.addEventListener('change', () => { f.state = stateSel.value; load(true); });
  prioSel.addEventListener('change', () => { f.priority = prioSel.value; load(true); });
  // Typing asks the API once it pauses, not at each key.
  let typeTimer = null;
  for (const [input, key] of [[teamIn, 'team'], [svcIn, 'service'], [qIn, 'q']]) {
    input.addEventListener('input', () => {
      clearTimeout(typeTimer);
      typeTimer = setTimeout(() => { f[key] = input.value.trim(); load(true); }, 300);
    });
  }
  more.addEventListener('click', () => load(false));

  // A change replaces the incident where it is; a new one goes on top.
  const off = ctx.on('incident', (inc) => {
    if (!inc || typeof inc.id !== 'number') return;
    const at = items.findIndex((i) => i.id === inc.id);
    if (at >= 0) items[at] = { ...items[at], ...inc };
    else if (!items.length || inc.id > items[0].id) items.unshift(inc);
    show();
  });
  const offReset = ctx.on('reset', () => load(true));

  load(true).catch((err) => failed(root, err, 'the incidents'));
  return () => { gone = true; clearTimeout(typeTimer); off(); offReset(); };
}
