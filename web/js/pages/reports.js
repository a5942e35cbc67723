// SPDX-License-Identifier: MIT
// Reports. Without an id: the summary of a period
// (GET /api/v1/reports/summary?format=json) with its figures and charts:
// MTTA and MTTR over time, incidents over time and by category and
// priority, the share hale healed over time, availability, top problems.
// With an id: the final report of that incident
// (GET /api/v1/incidents/{id}/report?format=json), laid out for paper.
import {
  h, clear, link, timeEl, fmtDuration, badge, priorityBadge, field, labelsList, errorText, failed, words,
} from './parts.js';
import { lineChart, barChart, dataTable } from './plots.js';

const PERIODS = [['1d', 'last 24 hours'], ['7d', 'last 7 days'], ['30d', 'last 30 days'], ['90d', 'last 90 days'], ['365d', 'last year']];
const CATEGORIES = ['network', 'hardware', 'software', 'data'];

const pct = (n, d) => (d ? `${(Math.floor((1000 * n) / d) / 10).toString()} %` : '-');
const minutes = (ms) => (ms === null || ms === undefined ? null : ms / 60000);

function figure(value, key, id) {
  return h('div', { class: 'figure', dataset: { figure: id } }, h('div', { class: 'v' }, value), h('div', { class: 'k' }, key));
}

function stepWord(stepMs) {
  if (stepMs <= 3600000) return 'hour';
  if (stepMs <= 86400000) return 'day';
  return `${Math.round(stepMs / 604800000)} weeks`;
}

function bucketLabel(iso, stepMs) {
  const d = new Date(iso);
  return stepMs < 86400000
    ? d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

function availabilityBar(a) {
  const known = a.percent !== null && a.percent !== undefined;
  const p = known ? Math.floor(a.percent * 100) / 100 : 0;
  const cls = !known ? 'unknown' : p >= 99.9 ? 'good' : p >= 99 ? 'fair' : 'poor';
  return h('tr', {},
    h('th', { scope: 'row' }, a.check),
    h('td', {}, h('span', { class: `avail-bar ${cls}`, 'aria-hidden': 'true' }, h('span', { style: { width: `${p}%` } })),
      ' ', known ? (p >= 100 ? '100 %' : `${p.toFixed(2)} %`) : 'unknown'),
    h('td', {}, known ? fmtDuration(a.down_ms) : '-'));
}

function summaryPage(root, ctx) {
  let gone = false;
  let charts = [];
  const p = Object.fromEntries(ctx.query || []);
  const periodSel = h('select', { id: 'f-period', name: 'since' },
    PERIODS.map(([v, t]) => h('option', { value: v, selected: v === (p.since || '7d') }, t)));
  const body = h('div', { class: 'report-body' });
  const printBtn = h('button', { type: 'button', class: 'btn no-print', onclick: () => window.print() }, 'Print');
  clear(root).append(
    h('h1', {}, 'Reports'),
    h('form', { class: 'filters no-print', 'aria-label': 'Report period', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-period' }, 'Period'), periodSel), printBtn),
    body);

  const drop = () => { for (const c of charts) c.destroy(); charts = []; };

  async function load() {
    clear(body).append(h('p', { class: 'muted' }, 'Loading...'));
    let s;
    try {
      s = await ctx.api.get('/api/v1/reports/summary', { since: periodSel.value, format: 'json' });
    } catch (err) {
      if (!gone) clear(body).append(h('p', { class: 'error-text', role: 'alert' }, errorText(err)));
      return;
    }
    if (gone) return;
    drop();
    const ot = s.over_time || { step_ms: 86400000, buckets: [] };
    const b = ot.buckets;
    const xs = b.map((x) => new Date(x.start).getTime() / 1000);
    const step = stepWord(ot.step_ms);
    const add = (c) => { charts.push(c); return c.el; };
    const mins = (v) => (v === null || v === undefined ? '-' : fmtDuration(v * 60000));

    const response = add(lineChart({
      title: `MTTA and MTTR (median) by ${step}`, xs, yLabel: 'time', valueText: mins,
      series: [
        { label: 'MTTA median', values: b.map((x) => minutes(x.mtta.median_ms)), color: '#c2410c' },
        { label: 'MTTR median', values: b.map((x) => minutes(x.mttr.median_ms)), color: '#2563eb' },
      ],
    }));
    const healed = add(lineChart({
      title: `Share healed by hale, by ${step}`, xs, yLabel: '%',
      valueText: (v) => (v === null || v === undefined ? '-' : `${Math.round(v)} %`),
      series: [{ label: 'healed / resolved', values: b.map((x) => (x.resolved ? (100 * x.healed) / x.resolved : null)), color: '#16a34a' }],
    }));
    const opened = add(lineChart({
      title: `Incidents opened by ${step}`, xs, yLabel: 'incidents',
      series: [{ label: 'opened', values: b.map((x) => x.incidents), color: '#7c3aed' }, { label: 'resolved', values: b.map((x) => x.resolved), color: '#0f766e' }],
    }));
    const byCat = add(barChart({ title: 'Incidents by category', labels: CATEGORIES, values: CATEGORIES.map((c) => (s.by_category || {})[c] || 0) }));
    const prios = ['P1', 'P2', 'P3', 'P4', 'P5'];
    const byPrio = add(barChart({ title: 'Incidents by priority', labels: prios, values: prios.map((x) => (s.by_priority || {})[x] || 0), color: '#c2410c' }));
    const moving = b.filter((x) => x.incidents);

    clear(body).append(
      h('p', { class: 'period' }, 'From ', timeEl(s.since), ' to ', timeEl(s.until), '.'),
      h('div', { class: 'figures' },
        figure(String(s.total), 'incidents opened', 'total'),
        figure(fmtDuration(s.mtta.median_ms), `MTTA, median (p90 ${fmtDuration(s.mtta.p90_ms)}, ${s.mtta.n} measured)`, 'mtta'),
        figure(fmtDuration(s.mttr.median_ms), `MTTR, median (p90 ${fmtDuration(s.mttr.p90_ms)}, ${s.mttr.n} measured)`, 'mttr'),
        figure(pct(s.healed, s.resolved), `healed by hale alone (${s.healed} of ${s.resolved} resolved)`, 'healed')),
      h('div', { class: 'charts' },
        h('section', { class: 'card', 'aria-labelledby': 'r-resp' }, h('h2', { id: 'r-resp' }, 'Response times over time'), response,
          dataTable(`MTTA and MTTR by ${step}`, [step, 'incidents', 'MTTA median', 'MTTR median'],
            moving.map((x) => [bucketLabel(x.start, ot.step_ms), String(x.incidents), fmtDuration(x.mtta.median_ms), fmtDuration(x.mttr.median_ms)]))),
        h('section', { class: 'card', 'aria-labelledby': 'r-heal' }, h('h2', { id: 'r-heal' }, 'Auto-heal rate'), healed,
          dataTable(`Healed by ${step}`, [step, 'resolved', 'healed', 'share'],
            moving.map((x) => [bucketLabel(x.start, ot.step_ms), String(x.resolved), String(x.healed), pct(x.healed, x.resolved)]))),
        h('section', { class: 'card', 'aria-labelledby': 'r-open' }, h('h2', { id: 'r-open' }, 'Incidents over time'), opened),
        h('section', { class: 'card', 'aria-labelledby': 'r-cat' }, h('h2', { id: 'r-cat' }, 'By category'), byCat,
          dataTable('Incidents by category', ['category', 'incidents'], CATEGORIES.map((c) => [c, String((s.by_category || {})[c] || 0)]))),
        h('section', { class: 'card', 'aria-labelledby': 'r-prio' }, h('h2', { id: 'r-prio' }, 'By priority'), byPrio,
          dataTable('Incidents by priority', ['priority', 'incidents'], prios.map((x) => [x, String((s.by_priority || {})[x] || 0)])))),
      h('div', { class: 'grid-2' },
        h('section', { class: 'card', 'aria-labelledby': 'r-team' }, h('h2', { id: 'r-team' }, 'By team'),
          (s.by_team || []).length ? dataTable('Incidents by team', ['team', 'incidents'], s.by_team.map((t) => [t.team, String(t.incidents)]), true)
            : h('p', { class: 'muted' }, 'No incidents.')),
        h('section', { class: 'card', 'aria-labelledby': 'r-state' }, h('h2', { id: 'r-state' }, 'By state now'),
          dataTable('Incidents by state', ['state', 'incidents'], Object.entries(s.by_state || {}).map(([k, v]) => [words(k), String(v)]), true))),
      h('section', { class: 'card', 'aria-labelledby': 'r-avail' }, h('h2', { id: 'r-avail' }, 'Availability'),
        (s.availability || []).length ? h('table', { class: 'table avail' },
          h('caption', { class: 'sr-only' }, 'Availability per check'),
          h('thead', {}, h('tr', {}, ['check', 'availability', 'down'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, s.availability.map(availabilityBar))) : h('p', { class: 'muted' }, 'No checks configured.')),
      h('section', { class: 'card', 'aria-labelledby': 'r-probs' }, h('h2', { id: 'r-probs' }, 'Top problems'),
        (s.top_problems || []).length ? h('ul', { class: 'plain' }, s.top_problems.map((pr) => h('li', {},
          link(`/problems/${pr.id}`, `#${pr.id} `, pr.title), ' ', badge('state', pr.state), ` ${pr.incidents} incidents`)))
          : h('p', { class: 'muted' }, 'No problems recorded.')));
  }
  periodSel.addEventListener('change', load);
  load();
  return () => { gone = true; drop(); };
}

// ---- the final report of an incident ----

function section(id, title, ...content) {
  return h('section', { class: 'report-section', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

function incidentReport(root, ctx, id) {
  let gone = false;
  clear(root).append(h('p', { class: 'muted' }, 'Loading...'));
  ctx.api.get(`/api/v1/incidents/${id}/report`, { format: 'json' }).then((r) => {
    if (gone) return;
    const inc = r.incident;
    const impact = r.impact_ms;
    const actors = r.actors || [];
    clear(root).append(h('article', { class: 'final-report' },
      h('p', { class: 'crumbs no-print' }, link(`/incidents/${id}`, `Incident ${id}`), ' / final report ',
        h('button', { type: 'button', class: 'btn', onclick: () => window.print() }, 'Print')),
      h('h1', {}, `Incident ${inc.id} (${inc.priority}, ${words(inc.state)}): `, inc.title),
      h('p', { class: 'muted' }, 'Report made ', timeEl(r.generated), '.'),
      section('fr-summary', 'Summary', h('dl', { class: 'facts' },
        field('Type', inc.type), field('Opened', timeEl(inc.opened)),
        field('Acknowledged', inc.acknowledged ? timeEl(inc.acknowledged) : 'not acknowledged'),
        field('Resolved', inc.resolved ? timeEl(inc.resolved) : 'not resolved'),
        field('Closed', inc.closed ? timeEl(inc.closed) : null),
        field('Severity', inc.severity), field('Priority', priorityBadge(inc.priority)), field('Category', inc.category),
        field('Team', inc.team), field('Assignee', inc.assignee), field('Check', inc.check),
        field('Labels', labelsList(inc.labels)), field('Reopened', String(inc.reopened || 0)))),
      section('fr-impact', 'Impact', h('p', {}, inc.resolved ? `It lasted ${fmtDuration(impact)}, from opening to resolution.`
        : `Open for ${fmtDuration(impact)} so far.`)),
      section('fr-response', 'Response', h('dl', { class: 'facts' },
        field('Time to acknowledge', r.tta_ms === null ? 'not acknowledged' : fmtDuration(r.tta_ms)),
        field('Time to resolve', r.ttr_ms === null ? 'not resolved' : fmtDuration(r.ttr_ms)))),
      section('fr-timeline', 'Timeline', h('table', { class: 'table report-timeline' },
        h('thead', {}, h('tr', {}, ['time', 'actor', 'kind', 'text'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, (r.timeline || []).map((e) => h('tr', {},
          h('td', {}, timeEl(e.time)), h('td', {}, e.actor), h('td', {}, words(e.kind)),
          h('td', {}, e.kind === 'step_output' ? h('pre', {}, e.text) : e.text)))))),
      section('fr-actions', 'Actions taken', (r.actions || []).length ? h('ol', { class: 'steps' }, r.actions.map((a) => h('li', {},
        h('p', {}, h('strong', {}, a.step || '(a step)'), ` by ${a.actor || '?'}, `, timeEl(a.started), ' to ', timeEl(a.finished), `: ${a.result || 'no result recorded'}`),
        a.output ? h('pre', {}, a.output) : null))) : h('p', {}, 'None.')),
      section('fr-who', 'Who did what', actors.length ? h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['actor', 'entries', 'by kind'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, actors.map((a) => h('tr', {}, h('th', { scope: 'row' }, a.actor), h('td', {}, String(a.entries)),
          h('td', {}, Object.entries(a.kinds || {}).map(([k, n]) => `${words(k)} ${n}`).join(', '))))))
        : h('p', {}, 'Nobody.')),
      section('fr-cause', 'Root cause', h('p', {}, inc.root_cause || 'Not recorded.')),
      section('fr-by', 'Resolved by', h('p', {}, inc.resolved_by || 'Not resolved.')),
      section('fr-follow', 'Follow-ups', r.problem ? h('p', {}, link(`/problems/${r.problem.id}`, `Problem ${r.problem.id}: ${r.problem.title}`),
        ` (${words(r.problem.state)}, ${r.problem.incidents} incidents)`,
        r.problem.workaround ? `. Workaround: ${r.problem.workaround}` : '') : h('p', {}, 'None.'))));
  }).catch((err) => failed(root, err, `the report of incident ${id}`));
  return () => { gone = true; };
}

export function render(root, ctx) {
  const id = ctx.params && ctx.params.id;
  return id ? incidentReport(root, ctx, Number(id)) : summaryPage(root, ctx);
}
