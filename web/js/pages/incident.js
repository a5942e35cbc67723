// SPDX-License-Identifier: MIT
// One incident: what it is, the graph of its check around it, the runs
// working on it, its timeline (events, state changes, notes, steps with
// their output folded, approvals, notifications) and, for a role that may
// act, its actions: acknowledge, assign, note, resolve with the root
// cause, close. Live: a change of the incident, or of a run working on it,
// on the stream reloads it (every 15 s only while the stream is down).
import {
  h, clear, link, timeEl, fmtDuration, badge, priorityBadge, field, labelsList, timeline,
  actionForm, actionButton, statusLine, errorText, coalesced, whenStreamMisses, failed, words,
} from './parts.js';
import { lineChart } from './plots.js';

const OPEN = ['new', 'acknowledged', 'in_progress'];
const MOVING = ['running', 'waiting'];

function summary(inc) {
  const ms = (a, b) => (a && b ? new Date(b) - new Date(a) : null);
  return h('dl', { class: 'facts' },
    field('Service', inc.service),
    field('Team', inc.team),
    field('Assignee', inc.assignee),
    field('Severity', inc.severity),
    field('Category', inc.category),
    field('Check', inc.check),
    field('Runbook', inc.runbook),
    field('Opened', timeEl(inc.opened)),
    field('Acknowledged', inc.acknowledged ? [timeEl(inc.acknowledged), ` (after ${fmtDuration(ms(inc.opened, inc.acknowledged))})`] : null),
    field('Resolved', inc.resolved ? [timeEl(inc.resolved), ` by ${inc.resolved_by || '?'} (after ${fmtDuration(ms(inc.opened, inc.resolved))})`] : null),
    field('Closed', inc.closed ? timeEl(inc.closed) : null),
    field('Root cause', inc.root_cause),
    field('Reopened', inc.reopened ? `${inc.reopened} time${inc.reopened === 1 ? '' : 's'}` : null),
    field('Events', inc.events !== undefined ? `${inc.events} (${inc.repeats || 0} repeated)` : null),
    field('Problem', inc.problem ? link(`/problems/${inc.problem}`, `problem ${inc.problem}`) : null),
    field('Symptom of', inc.symptom_of ? link(`/incidents/${inc.symptom_of}`, `incident ${inc.symptom_of}`) : null),
    field('Labels', labelsList(inc.labels)));
}

function runsList(runs) {
  if (!runs.length) return h('p', { class: 'muted' }, 'No runbook has run for this incident.');
  return h('ul', { class: 'runs' }, runs.map((r) => h('li', { dataset: { run: r.id, outcome: r.outcome } },
    link(`/runs/${r.id}`, `Run ${r.id} of ${r.runbook}`), ' ', badge('outcome', r.outcome),
    r.outcome === 'waiting' && r.approval ? h('span', { class: 'waiting-note' }, ` asks: ${r.approval.question || 'approve?'}`) : null,
    r.reason ? h('span', { class: 'muted' }, ` ${r.reason}`) : null)));
}

// The check's series around the incident: from a while before it opened
// to a while after it ended (or now), the incident's span shaded.
async function graph(ctx, inc, box) {
  let chk;
  try {
    chk = await ctx.api.get(`/api/v1/checks/${encodeURIComponent(inc.check)}`);
  } catch (err) {
    box.append(h('p', { class: 'muted' }, `No graph: ${errorText(err)}`));
    return () => {};
  }
  const history = (chk.history || []).filter((s) => s.label !== 'status' && s.points && s.points.length);
  if (!history.length) {
    box.append(h('p', { class: 'muted' }, 'The check has no series to draw yet.'));
    return () => {};
  }
  const opened = new Date(inc.opened).getTime();
  const ended = inc.resolved ? new Date(inc.resolved).getTime() : Date.now();
  const margin = Math.max(15 * 60000, (ended - opened) / 2);
  const from = opened - margin;
  const to = inc.resolved ? ended + margin : Date.now();
  const main = history[0];
  const same = history.filter((s) => s.unit === main.unit).slice(0, 4);
  const times = [...new Set(same.flatMap((s) => s.points.map((p) => p[0])))]
    .filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let note = null;
  if (!times.length) {
    note = h('p', { class: 'muted' }, 'The check\'s recent history does not reach back to this incident; it shows the last points kept.');
    times.push(...[...new Set(main.points.map((p) => p[0]))].sort((a, b) => a - b));
  }
  const series = same.map((s) => {
    const byTime = new Map(s.points.map((p) => [p[0], p[1]]));
    return { label: `${s.label}${s.unit ? ` (${s.unit})` : ''}`, values: times.map((t) => (byTime.has(t) ? byTime.get(t) : null)) };
  });
  const chart = lineChart({
    title: `${inc.check}: ${main.label} around incident ${inc.id}`,
    xs: times.map((t) => t / 1000),
    series,
    band: [opened / 1000, ended / 1000],
  });
  box.append(...[chart.el, note].filter(Boolean), h('p', { class: 'muted small' }, 'The shaded band is the incident, from opening to resolution.'));
  return chart.destroy;
}

export function render(root, ctx) {
  const id = Number(ctx.params && ctx.params.id);
  let inc = null;
  let runs = [];
  let lastEntry = 0;
  let actionsKey = '';
  let gone = false;
  let stopGraph = () => {};

  const head = h('header', { class: 'page-head' });
  const facts = h('section', { class: 'card', 'aria-labelledby': 'inc-facts' });
  const actions = h('section', { class: 'card act-panel', 'aria-labelledby': 'inc-actions', hidden: true });
  const graphBox = h('section', { class: 'card', 'aria-labelledby': 'inc-graph' }, h('h2', { id: 'inc-graph' }, 'Check'));
  const runsBox = h('section', { class: 'card', 'aria-labelledby': 'inc-runs' });
  const tlList = h('div');
  const tlBox = h('section', { class: 'card', 'aria-labelledby': 'inc-timeline' }, h('h2', { id: 'inc-timeline' }, 'Timeline'), tlList);
  const notice = statusLine();

  clear(root).append(h('p', { class: 'muted' }, 'Loading...'));

  function showHead() {
    clear(head).append(
      h('p', { class: 'crumbs' }, link('/incidents', 'Incidents'), ` / ${id}`),
      h('h1', {}, `Incident ${inc.id}: `, inc.title),
      h('p', { class: 'badges' }, priorityBadge(inc.priority), ' ', badge('state', inc.state), ' ',
        h('span', { class: `badge sev-${inc.severity}` }, inc.severity), ' ',
        inc.type === 'request' ? h('span', { class: 'badge type-request' }, 'request') : null, ' ',
        link(`/reports/${inc.id}`, 'Final report')),
      notice);
    clear(facts).append(h('h2', { id: 'inc-facts' }, 'Summary'), summary(inc));
  }

  const post = async (action, body) => {
    const res = await ctx.api.post(`/api/v1/incidents/${id}/${action}`, body || {});
    notice.say(`Incident ${id}: ${action === 'notes' ? 'note added' : `${words(res.incident.state)}`}.`);
    await load();
    return res;
  };

  // Rebuilt only when what is possible changes, so a half-typed note stays.
  function showActions() {
    if (!ctx.can('act')) { actions.hidden = true; return; }
    const key = inc.state;
    if (key === actionsKey) return;
    actionsKey = key;
    const open = OPEN.includes(inc.state);
    const items = [];
    if (inc.state === 'new') {
      const st = statusLine();
      items.push(h('div', { class: 'action-row' },
        actionButton('Acknowledge', () => post('ack').catch((e) => st.say(errorText(e), true))), st));
    }
    if (inc.state !== 'closed') {
      items.push(actionForm({
        id: 'assign-form', legend: 'Assign', button: 'Assign',
        fields: [{ name: 'team', label: 'Team', value: inc.team || '', max: 128 }, { name: 'assignee', label: 'Assignee', max: 128 }],
        submit: (v) => {
          const body = {};
          if (v.team && v.team !== inc.team) body.team = v.team;
          if (v.assignee) body.assignee = v.assignee;
          if (!Object.keys(body).length) throw new Error('Give a new team or an assignee.');
          return post('assign', body);
        },
      }));
      items.push(actionForm({
        id: 'note-form', legend: 'Add a note', button: 'Add note',
        fields: [{ name: 'text', label: 'Note', multiline: true, required: true }],
        submit: (v) => post('notes', { text: v.text }),
      }));
    }
    if (open) {
      items.push(actionForm({
        id: 'resolve-form', legend: 'Resolve', button: 'Resolve',
        fields: [{ name: 'cause', label: 'Root cause', multiline: true }],
        submit: (v) => post('resolve', v.cause ? { cause: v.cause } : {}),
      }));
    }
    if (inc.state === 'resolved') {
      const st = statusLine();
      items.push(h('div', { class: 'action-row' },
        actionButton('Close', () => post('close').catch((e) => st.say(errorText(e), true)), { danger: true }), st,
        h('p', { class: 'muted small' }, 'A closed incident takes no more changes and never reopens.')));
    }
    clear(actions).append(h('h2', { id: 'inc-actions' }, 'Actions'), ...items);
    actions.hidden = !items.length;
  }

  function showTimeline(entries) {
    if (!lastEntry) clear(tlList);
    const fresh = entries.filter((e) => e.id > lastEntry);
    if (!fresh.length) {
      if (!lastEntry) tlList.append(timeline([]));
      return;
    }
    let ol = tlList.querySelector('ol.timeline');
    const built = timeline(fresh);
    if (ol) ol.append(...built.children);
    else clear(tlList).append(built);
    lastEntry = Math.max(...entries.map((e) => e.id));
  }

  function showRuns() {
    clear(runsBox).append(h('h2', { id: 'inc-runs' }, 'Runs'), runsList(runs));
  }

  async function load() {
    const [one, rl] = await Promise.all([
      ctx.api.get(`/api/v1/incidents/${id}`),
      ctx.api.get('/api/v1/runs', { incident: id }).catch(() => ({ runs: [] })),
    ]);
    if (gone) return;
    inc = one.incident;
    runs = rl.runs || [];
    showHead();
    showActions();
    showRuns();
    showTimeline(one.timeline || []);
  }

  // Stream messages about it or its runs reload it; the fallback only
  // while the stream is down and something may still move.
  const refresh = coalesced(() => load().catch(() => {}));
  let stopFallback = () => {};

  load().then(async () => {
    if (gone) return;
    // A role that may not act gets no actions, not even hidden ones.
    clear(root).append(head, h('div', { class: 'grid-2' }, facts, ctx.can('act') ? actions : null), graphBox, runsBox, tlBox);
    if (inc.check) {
      stopGraph = await graph(ctx, inc, graphBox);
      if (gone) stopGraph();
    }
    else graphBox.append(h('p', { class: 'muted' }, 'No check opened this incident: there is no graph.'));
    if (!gone) {
      stopFallback = whenStreamMisses(ctx, () => {
        if (runs.some((r) => MOVING.includes(r.outcome)) || (inc && OPEN.includes(inc.state))) return refresh();
        return null;
      });
    }
  }).catch((err) => failed(root, err, `incident ${id}`));

  const off = ctx.on('incident', (data) => {
    if (data && data.id === id) refresh();
  });
  const offRun = ctx.on('run', (data) => {
    if (data && data.run && data.run.incident === id) refresh();
  });
  return () => { gone = true; off(); offRun(); stopFallback(); stopGraph(); };
}
