// SPDX-License-Identifier: MIT
// The runs page: every runbook run, newest first, filtered by outcome and
// runbook (GET /api/v1/runs). Runs waiting at an approval gate come first
// in their own list, so nobody misses one. The live stream's `run` events
// keep the list current (no polling); while the stream is down the page
// looks again now and then (whenStreamMisses).
import { h, clear, link, timeEl, fmtAgo, fmtDuration, badge, errorText, coalesced, whenStreamMisses } from './parts.js';

const OUTCOMES = ['running', 'waiting', 'healed', 'completed', 'failed', 'suspended', 'rejected', 'expired', 'canceled', 'interrupted'];
const PAGE = 100;

function duration(r) {
  if (!r.started) return '-';
  const end = r.ended ? new Date(r.ended) : new Date();
  return fmtDuration(end - new Date(r.started));
}

function row(r) {
  return h('tr', { dataset: { run: r.id, outcome: r.outcome } },
    h('td', { 'data-label': 'Run' }, link(`/runs/${r.id}`, `Run ${r.id}`)),
    h('td', { 'data-label': 'Runbook' }, r.runbook),
    h('td', { 'data-label': 'Outcome' }, badge('outcome', r.outcome)),
    h('td', { 'data-label': 'Incident' }, r.incident ? link(`/incidents/${r.incident}`, `#${r.incident}`) : '-'),
    h('td', { 'data-label': 'Target' }, r.target || '-'),
    h('td', { 'data-label': 'Step' }, r.steps_total ? `${Math.min(r.step + 1, r.steps_total)} of ${r.steps_total}` : String(r.step + 1)),
    h('td', { 'data-label': 'Started' }, timeEl(r.started, fmtAgo(r.started)), r.automatic ? '' : h('span', { class: 'muted' }, ` by ${r.actor}`)),
    h('td', { 'data-label': 'Took' }, duration(r)));
}

export function render(root, ctx) {
  const p = Object.fromEntries(ctx.query || []);
  const f = { outcome: p.outcome || '', runbook: p.runbook || '' };
  let items = [];
  let cursor = null;
  let gone = false;
  let waitingIds = new Set();

  const outcomeSel = h('select', { id: 'f-outcome', name: 'outcome' },
    [['', 'any'], ...OUTCOMES.map((o) => [o, o])].map(([v, t]) => h('option', { value: v, selected: v === f.outcome }, t)));
  const runbookIn = h('input', { id: 'f-runbook', name: 'runbook', type: 'search', autocomplete: 'off', placeholder: 'exact name' });
  runbookIn.value = f.runbook;
  const waiting = h('section', { class: 'card waiting', 'aria-labelledby': 'runs-waiting', hidden: true });
  const tbody = h('tbody');
  const error = h('p', { class: 'error-text', role: 'alert' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');

  clear(root).append(
    h('h1', {}, 'Runs'),
    waiting,
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter runs', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-outcome' }, 'Outcome'), outcomeSel),
      h('div', { class: 'field' }, h('label', { for: 'f-runbook' }, 'Runbook'), runbookIn)),
    error,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table runs' },
      h('caption', { class: 'sr-only' }, 'Runs, newest first'),
      h('thead', {}, h('tr', {}, ['Run', 'Runbook', 'Outcome', 'Incident', 'Target', 'Step', 'Started', 'Took'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    more);

  function show() {
    clear(tbody);
    for (const r of items) tbody.appendChild(row(r));
    if (!items.length) tbody.appendChild(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No run matches.')));
    more.hidden = !cursor;
  }

  async function showWaiting() {
    let res;
    try {
      res = await ctx.api.get('/api/v1/runs', { outcome: 'waiting', limit: 50 });
    } catch {
      return;
    }
    if (gone) return;
    const w = res.runs || [];
    waitingIds = new Set(w.map((r) => r.id));
    waiting.hidden = !w.length;
    clear(waiting).append(h('h2', { id: 'runs-waiting' }, `Waiting for approval (${w.length})`),
      h('ul', {}, w.map((r) => h('li', {}, link(`/runs/${r.id}`, `Run ${r.id} of ${r.runbook}`),
        r.approval && r.approval.question ? `: ${r.approval.question}` : '',
        r.approval && r.approval.deadline ? h('span', { class: 'muted' }, ' (answer by ', timeEl(r.approval.deadline), ')') : null))));
  }

  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    try {
      const res = await ctx.api.get('/api/v1/runs', { ...f, limit: PAGE, cursor });
      if (gone) return;
      items = reset ? res.runs || [] : items.concat(res.runs || []);
      cursor = res.next_cursor || null;
      error.textContent = '';
    } catch (err) {
      if (!gone) error.textContent = errorText(err);
    }
    show();
    showWaiting();
  }

  outcomeSel.addEventListener('change', () => { f.outcome = outcomeSel.value; load(true); });
  let t = null;
  runbookIn.addEventListener('input', () => {
    clearTimeout(t);
    t = setTimeout(() => { f.runbook = runbookIn.value.trim(); load(true); }, 300);
  });
  more.addEventListener('click', () => load(false));

  const matches = (r) => (!f.outcome || r.outcome === f.outcome) && (!f.runbook || r.runbook === f.runbook);
  // A run's change, from the stream: its row is updated (or dropped once it
  // no longer matches the filter), one that comes to match
  // (a new run, or one whose outcome now fits) takes its place by id; the waiting list
  // is fetched again only when a run enters or leaves its gate.
  ctx.on('run', (data) => {
    const r = data && data.run;
    if (!r) return;
    const i = items.findIndex((x) => x.id === r.id);
    if (i >= 0 && matches(r)) items[i] = r;
    else if (i >= 0) items.splice(i, 1);
    else if (matches(r) && (!cursor || (items.length && r.id > items[items.length - 1].id))) {
      items.push(r);
      items.sort((a, b) => b.id - a.id);
    }
    show();
    if ((r.outcome === 'waiting') !== waitingIds.has(r.id)) showWaiting();
  });
  const stopFallback = whenStreamMisses(ctx, coalesced(() => load(true)));
  load(true);
  return () => { gone = true; clearTimeout(t); stopFallback(); };
}
