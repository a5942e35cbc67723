// SPDX-License-Identifier: MIT
// Problems: what keeps breaking. The list (GET /api/v1/problems), most
// recurring first within each state; with an id, one problem: its root
// cause and workaround, its incidents, its timeline and, for a role that
// may act, the moves of its lifecycle (POST /api/v1/problems/{id}).
import {
  h, clear, link, timeEl, fmtAgo, badge, field, timeline, actionForm, statusLine, failed, priorityBadge,
} from './parts.js';

const STATES = ['open', 'known_error', 'resolved'];

function listPage(root, ctx) {
  let gone = false;
  const stateSel = h('select', { id: 'f-pstate', name: 'state' },
    [['active', 'open and known errors'], ['all', 'all'], ...STATES.map((s) => [s, s.replace('_', ' ')])]
      .map(([v, t]) => h('option', { value: v }, t)));
  const tbody = h('tbody');
  let items = [];
  const show = () => {
    const st = stateSel.value;
    const shown = items.filter((p) => (st === 'all' ? true : st === 'active' ? p.state !== 'resolved' : p.state === st))
      .sort((a, b) => (b.incidents - a.incidents) || (b.id - a.id));
    clear(tbody);
    for (const p of shown) {
      tbody.appendChild(h('tr', { dataset: { problem: p.id } },
        h('td', { 'data-label': 'Problem' }, link(`/problems/${p.id}`, `#${p.id} `, p.title)),
        h('td', { 'data-label': 'State' }, badge('state', p.state)),
        h('td', { 'data-label': 'Incidents' }, String(p.incidents)),
        h('td', { 'data-label': 'Workaround' }, p.workaround || '-'),
        h('td', { 'data-label': 'Updated' }, timeEl(p.updated, fmtAgo(p.updated)))));
    }
    if (!shown.length) tbody.appendChild(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No problem here: nothing has kept coming back.')));
  };
  stateSel.addEventListener('change', show);
  clear(root).append(
    h('h1', {}, 'Problems'),
    h('p', { class: 'lead' }, 'A problem links the incidents of one failure that keeps coming back, so it gets fixed for good, not only repaired.'),
    h('form', { class: 'filters', 'aria-label': 'Filter problems', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'f-pstate' }, 'State'), stateSel)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table problems' },
      h('caption', { class: 'sr-only' }, 'Problems, most incidents first'),
      h('thead', {}, h('tr', {}, ['Problem', 'State', 'Incidents', 'Workaround', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  ctx.api.get('/api/v1/problems').then((res) => {
    if (gone) return;
    items = res.problems || [];
    show();
  }).catch((err) => failed(root, err, 'the problems'));
  return () => { gone = true; };
}

// The moves the lifecycle allows from the problem's state.
function moves(ctx, p, post) {
  const forms = [];
  if (p.state !== 'resolved') {
    forms.push(actionForm({
      id: 'cause-form', legend: 'Root cause and workaround', button: 'Save',
      fields: [
        { name: 'root_cause', label: 'Root cause', multiline: true, value: p.root_cause || '' },
        { name: 'workaround', label: 'Workaround', multiline: true, value: p.workaround || '' },
      ],
      submit: (v) => {
        const body = {};
        if (v.root_cause && v.root_cause !== p.root_cause) body.root_cause = v.root_cause;
        if (v.workaround && v.workaround !== p.workaround) body.workaround = v.workaround;
        if (!Object.keys(body).length) throw new Error('Nothing changed.');
        return post(body);
      },
    }));
  }
  if (p.state === 'open') {
    forms.push(actionForm({
      id: 'known-form', legend: 'Known error', button: 'Mark as known error',
      fields: p.root_cause ? [] : [{ name: 'root_cause', label: 'Root cause (needed)', multiline: true, required: true }],
      submit: (v) => post({ state: 'known_error', ...(v.root_cause ? { root_cause: v.root_cause } : {}) }),
    }));
  }
  if (p.state !== 'resolved') {
    forms.push(actionForm({
      id: 'presolve-form', legend: 'Resolve', button: 'Resolve problem',
      fields: [{ name: 'note', label: 'What fixed it (optional)', multiline: true }],
      submit: (v) => post({ state: 'resolved', ...(v.note ? { note: v.note } : {}) }),
    }));
  } else {
    forms.push(actionForm({
      id: 'reopen-form', legend: 'Reopen', button: 'Reopen',
      fields: [{ name: 'note', label: 'Why (needed)', multiline: true, required: true }],
      submit: (v) => post({ state: 'open', note: v.note }),
    }));
  }
  forms.push(actionForm({
    id: 'pnote-form', legend: 'Add a note', button: 'Add note',
    fields: [{ name: 'note', label: 'Note', multiline: true, required: true }],
    submit: (v) => post({ note: v.note }),
  }));
  return forms;
}

function detailPage(root, ctx, id) {
  let gone = false;
  const notice = statusLine();
  async function load() {
    const res = await ctx.api.get(`/api/v1/problems/${id}`);
    if (gone) return;
    const p = res.problem;
    const post = async (body) => {
      const r = await ctx.api.post(`/api/v1/problems/${id}`, body);
      await load();
      notice.say(`Problem ${id} saved.`);
      return r;
    };
    const incidents = res.incidents || [];
    clear(root).append(
      h('p', { class: 'crumbs' }, link('/problems', 'Problems'), ` / ${id}`),
      h('h1', {}, `Problem ${p.id}: `, p.title),
      h('p', { class: 'badges' }, badge('state', p.state), ` ${p.incidents} incident${p.incidents === 1 ? '' : 's'}`),
      notice,
      h('div', { class: 'grid-2' },
        h('section', { class: 'card', 'aria-labelledby': 'p-facts' }, h('h2', { id: 'p-facts' }, 'Summary'),
          h('dl', { class: 'facts' },
            field('Root cause', p.root_cause), field('Workaround', p.workaround),
            field('Fingerprint', h('code', {}, p.fingerprint || '')),
            field('Opened', timeEl(p.opened)), field('Resolved', p.resolved ? timeEl(p.resolved) : null),
            field('Updated', timeEl(p.updated)))),
        ctx.can('act') ? h('section', { class: 'card act-panel', 'aria-labelledby': 'p-actions' },
          h('h2', { id: 'p-actions' }, 'Actions'), moves(ctx, p, post)) : null),
      h('section', { class: 'card', 'aria-labelledby': 'p-incidents' },
        h('h2', { id: 'p-incidents' }, 'Incidents', incidents.length < p.incidents ? ` (the last ${incidents.length})` : ''),
        incidents.length ? h('ul', { class: 'plain' }, incidents.map((i) => h('li', {},
          priorityBadge(i.priority), ' ', link(`/incidents/${i.id}`, `#${i.id} `, i.title), ' ', badge('state', i.state),
          h('span', { class: 'muted' }, ' opened ', timeEl(i.opened, fmtAgo(i.opened))))))
          : h('p', { class: 'muted' }, 'None.')),
      h('section', { class: 'card', 'aria-labelledby': 'p-timeline' }, h('h2', { id: 'p-timeline' }, 'Timeline'), timeline(res.timeline)));
  }
  clear(root).append(h('p', { class: 'muted' }, 'Loading...'));
  load().catch((err) => failed(root, err, `problem ${id}`));
  return () => { gone = true; };
}

export function render(root, ctx) {
  const id = ctx.params && ctx.params.id;
  return id ? detailPage(root, ctx, Number(id)) : listPage(root, ctx);
}

