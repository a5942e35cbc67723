// SPDX-License-Identifier: MIT
// One run, step by step: each attempt of each step with its outcome, exit
// status, reason and output (folded). A run waiting at an approval gate
// shows the gate's question and, for a role that may act, Approve and
// Reject with an optional comment (POST /api/v1/runs/{id}/approve|reject).
// The page follows the live stream's run messages (looking again every
// 15 s only while the stream is down and the run is in motion).
import {
  h, clear, link, timeEl, fmtDuration, badge, field, labelsList, folded, lineCount, statusLine, errorText,
  failed, words, coalesced, whenStreamMisses,
} from './parts.js';

const MOVING = ['running', 'waiting'];

function attemptItem(a) {
  const took = a.started && a.ended ? fmtDuration(new Date(a.ended) - new Date(a.started)) : null;
  const exit = a.exit_status !== null && a.exit_status !== undefined ? `exit status ${a.exit_status}`
    : a.signal ? `killed by signal ${a.signal}` : null;
  return h('li', { class: `step outcome-${a.outcome}`, dataset: { step: a.step, outcome: a.outcome } },
    h('div', { class: 'step-head' },
      h('span', { class: 'step-no' }, `Step ${a.step + 1}`),
      h('strong', {}, a.name || '(unnamed)'),
      h('span', { class: 'muted' }, ` ${a.action || ''}${a.purpose ? `, ${a.purpose}` : ''}`),
      a.attempt > 1 ? h('span', { class: 'muted' }, ` (attempt ${a.attempt})`) : null,
      ' ', badge('outcome', a.outcome)),
    h('p', { class: 'step-meta' }, timeEl(a.started), took ? ` took ${took}` : '', exit ? `; ${exit}` : '',
      a.timed_out ? '; timed out' : ''),
    a.reason && a.reason !== `exit ${a.exit_status}` ? h('p', { class: 'step-reason' }, a.reason) : null,
    a.output ? folded(`output (${lineCount(a.output)} line${lineCount(a.output) === 1 ? '' : 's'})`, a.output) : null);
}

function approvalBlock(ctx, run, onDone) {
  const ap = run.approval;
  const box = h('section', { class: 'card approval', 'aria-labelledby': 'run-gate' },
    h('h2', { id: 'run-gate' }, run.outcome === 'waiting' ? 'Waiting for approval' : 'Approval'),
    h('p', { class: 'question' }, ap.question || 'Go on with the run?'));
  if (ap.deadline && run.outcome === 'waiting') box.append(h('p', {}, 'Answer by ', timeEl(ap.deadline), '; nobody answering means no.'));
  if (ap.decision) {
    box.append(h('p', {}, badge('decision', ap.decision), ` by ${ap.decided_by || '?'} `, timeEl(ap.decided),
      ap.comment ? h('q', {}, ap.comment) : null));
    return box;
  }
  if (run.outcome !== 'waiting') return box;
  if (!ctx.can('act')) {
    box.append(h('p', { class: 'muted' }, 'A responder or an admin answers it.'));
    return box;
  }
  const comment = h('textarea', { id: 'gate-comment', rows: 2, maxlength: 65536 });
  const status = statusLine();
  const decide = (verb) => async () => {
    for (const b of buttons) b.disabled = true;
    status.say('Sending...');
    try {
      const body = comment.value.trim() ? { comment: comment.value.trim() } : {};
      await ctx.api.post(`/api/v1/runs/${run.id}/${verb}`, body);
      status.say(verb === 'approve' ? 'Approved: the run goes on.' : 'Rejected: the run ends and its incident escalates.');
      await onDone();
    } catch (err) {
      status.say(errorText(err), true);
      for (const b of buttons) b.disabled = false;
    }
  };
  const buttons = [
    h('button', { type: 'button', class: 'btn primary', onclick: decide('approve') }, 'Approve'),
    h('button', { type: 'button', class: 'btn danger', onclick: decide('reject') }, 'Reject'),
  ];
  box.append(h('div', { class: 'field' }, h('label', { for: 'gate-comment' }, 'Comment (optional)'), comment),
    h('div', { class: 'buttons' }, buttons), status);
  return box;
}

export function render(root, ctx) {
  const id = Number(ctx.params && ctx.params.id);
  let gone = false;
  let key = '';

  async function load() {
    const res = await ctx.api.get(`/api/v1/runs/${id}`);
    if (gone) return null;
    const run = res.run;
    const steps = res.steps || [];
    // Redrawn only when something changed, so an open output stays open
    // and a half-typed comment stays.
    const k = JSON.stringify([run.outcome, run.step, run.approval, steps.map((s) => [s.seq, s.outcome, (s.output || '').length])]);
    if (k === key) return run;
    key = k;
    const open = new Set([...root.querySelectorAll('li.step details[open]')].map((d) => d.closest('li').dataset.step));
    const comment = root.querySelector('#gate-comment');
    const typed = comment ? comment.value : '';
    clear(root).append(
      h('p', { class: 'crumbs' }, link('/runs', 'Runs'), ` / ${id}`),
      h('h1', {}, `Run ${run.id} of ${run.runbook}`),
      h('p', { class: 'badges' }, badge('outcome', run.outcome), run.reason ? ` ${run.reason}` : ''),
      run.approval ? approvalBlock(ctx, run, load) : null,
      h('section', { class: 'card', 'aria-labelledby': 'run-facts' }, h('h2', { id: 'run-facts' }, 'Summary'),
        h('dl', { class: 'facts' },
          field('Incident', run.incident ? link(`/incidents/${run.incident}`, `incident ${run.incident}`) : null),
          field('Started by', run.automatic ? 'hale, for its incident' : run.actor),
          field('Target', run.target),
          field('Started', timeEl(run.started)),
          field('Ended', run.ended ? [timeEl(run.ended), ` after ${fmtDuration(new Date(run.ended) - new Date(run.started))}`] : null),
          field('Step', run.steps_total ? `${Math.min(run.step + 1, run.steps_total)} of ${run.steps_total}` : null),
          field('Relapsed', run.relapsed ? 'yes: its incident came back' : null),
          field('Labels', labelsList(run.labels)))),
      h('section', { class: 'card', 'aria-labelledby': 'run-steps' }, h('h2', { id: 'run-steps' }, 'Steps'),
        steps.length ? h('ol', { class: 'steps' }, steps.map(attemptItem)) : h('p', { class: 'muted' }, `No step ${words('running')} yet.`)));
    for (const li of root.querySelectorAll('li.step')) {
      if (open.has(li.dataset.step)) { const d = li.querySelector('details'); if (d) d.open = true; }
    }
    const c = root.querySelector('#gate-comment');
    if (c && typed) c.value = typed;
    return run;
  }

  let moving = true;
  const refresh = coalesced(async () => {
    const run = await load().catch(() => null);
    if (run) moving = MOVING.includes(run.outcome);
  });
  const off = ctx.on('run', (data) => {
    if (data && data.run && data.run.id === id) refresh();
  });
  const stopFallback = whenStreamMisses(ctx, () => (moving ? refresh() : null));
  clear(root).append(h('p', { class: 'muted' }, 'Loading...'));
  load().then((run) => { if (run) moving = MOVING.includes(run.outcome); })
    .catch((err) => failed(root, err, `run ${id}`));
  return () => { gone = true; off(); stopFallback(); };
}
