// SPDX-License-Identifier: MIT
// Pieces the incident, run, problem and report pages share, on top of
// ui.js's element building (text always through textContent, never markup
// from data): times and durations for people, state badges, a timeline,
// folded output, forms that post an action and say what the API answered.
import { el as h, clear } from '../ui.js';

// h('p', {class: 'x', onclick: fn}, 'text', child...): ui.js's el().
export { h, clear };

// The app's links: the path of a page, as the router reads it.
export function href(path) {
  return '#' + path;
}

export function link(path, ...children) {
  return h('a', { href: href(path) }, ...children);
}

// ---- times ----

export function fmtTime(iso) {
  if (!iso) return '-';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

// A <time> element: the local time shown, the exact one machine-readable.
export function timeEl(iso, text) {
  if (!iso) return h('span', { class: 'muted' }, text || '-');
  return h('time', { datetime: iso, title: iso }, text || fmtTime(iso));
}

// Durations as the reports write them: the two largest units.
export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  let s = Math.floor(ms / 1000);
  const parts = [];
  for (const [name, size] of units) {
    const n = Math.floor(s / size);
    s -= n * size;
    if (n || parts.length) parts.push([n, name]);
    if (parts.length === 2) break;
  }
  return parts.filter(([n], i) => i === 0 || n).map(([n, name]) => `${n} ${name}`).join(' ');
}

export function fmtAgo(iso) {
  if (!iso) return '-';
  const ms = Date.now() - new Date(iso).getTime();
  if (ms < 60000) return 'just now';
  return `${fmtDuration(ms)} ago`;
}

// ---- badges ----

const STATE_WORDS = {
  new: 'new', acknowledged: 'acknowledged', in_progress: 'in progress',
  resolved: 'resolved', closed: 'closed', open: 'open', known_error: 'known error',
  running: 'running', waiting: 'waiting for approval', healed: 'healed',
  completed: 'completed', failed: 'failed', suspended: 'suspended',
  rejected: 'rejected', expired: 'expired', canceled: 'canceled',
  interrupted: 'interrupted', succeeded: 'succeeded', skipped: 'skipped',
  approved: 'approved',
};

export function words(s) {
  return STATE_WORDS[s] || String(s || '-').replace(/_/g, ' ');
}

// A badge whose colour comes from its class, its meaning from its text.
export function badge(kind, value) {
  const cls = String(value || 'unknown').replace(/[^a-z0-9_-]/gi, '');
  return h('span', { class: `badge s-${cls}`, dataset: { [kind]: value } }, words(value));
}

export function priorityBadge(p) {
  return h('span', { class: `badge prio ${String(p || '').toLowerCase()}`, title: `priority ${p}` }, p || '-');
}

// ---- blocks ----

export function lineCount(text) {
  const t = (text || '').replace(/\n$/, '');
  return t ? t.split('\n').length : 0;
}

// Output folded: a summary line to open it, the text as written.
export function folded(label, text, open) {
  const d = h('details', { class: 'folded output' }, h('summary', {}, label), h('pre', {}, h('code', {}, text)));
  if (open) d.open = true;
  return d;
}

export function field(label, value) {
  return [h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? '-' : value)];
}

export function labelsList(labels) {
  const keys = Object.keys(labels || {});
  if (!keys.length) return h('span', { class: 'muted' }, 'none');
  return h('ul', { class: 'labels' }, keys.sort().map((k) => h('li', {}, h('code', {}, `${k}=${labels[k]}`))));
}

// A status line that screen readers announce: errors and confirmations.
export function statusLine() {
  const el = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  el.say = (text, isError) => {
    el.textContent = text || '';
    el.classList.toggle('error-text', !!isError);
  };
  return el;
}

export function errorText(err) {
  return (err && (err.reason || err.message)) || String(err);
}

// A page's "loading" and "could not load" states.
export function failed(root, err, what) {
  clear(root).appendChild(h('div', { class: 'page-error error', role: 'alert' },
    h('h1', {}, `Cannot show ${what}`), h('p', {}, errorText(err))));
}

// A small form that posts one action: its fields, one submit button, and
// its status line. submit(values) does the call; then() runs on success.
export function actionForm({ id, legend, fields, button, submit, then, danger }) {
  const status = statusLine();
  const inputs = {};
  const rows = (fields || []).map((f) => {
    const fid = `${id}-${f.name}`;
    const input = f.multiline
      ? h('textarea', { id: fid, name: f.name, rows: 3, required: f.required, maxlength: f.max })
      : h('input', { id: fid, name: f.name, type: 'text', required: f.required, maxlength: f.max, autocomplete: 'off' });
    if (f.value) input.value = f.value;
    inputs[f.name] = input;
    return h('div', { class: 'field' }, h('label', { for: fid }, f.label), input);
  });
  const btn = h('button', { type: 'submit', class: danger ? 'btn danger' : 'btn primary' }, button);
  const form = h('form', { class: 'action-form', id, 'aria-label': legend },
    h('fieldset', {}, h('legend', {}, legend), rows, h('div', { class: 'buttons' }, btn), status));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const [k, el] of Object.entries(inputs)) values[k] = el.value.trim();
    btn.disabled = true;
    status.say('Sending...');
    try {
      const res = await submit(values);
      status.say('Done.');
      for (const el of Object.values(inputs)) el.value = '';
      if (then) await then(res);
    } catch (err) {
      status.say(errorText(err), true);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

// A button that posts one action.
export function actionButton(label, run, opts = {}) {
  const btn = h('button', { type: 'button', class: opts.danger ? 'btn danger' : 'btn primary' }, label);
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      await run();
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

// ---- timeline ----

const KIND_WORDS = {
  event: 'event', state: 'state', assignment: 'assignment', note: 'note',
  step_started: 'step started', step_output: 'step output', step_finished: 'step finished',
  approval: 'approval', notification: 'notification',
};

function entryBody(e) {
  if (e.kind === 'step_output') {
    const lines = lineCount(e.text);
    return folded(`output (${lines} line${lines === 1 ? '' : 's'})`, e.text || '');
  }
  const text = h('p', { class: 'entry-text' }, e.text || '');
  if (e.data && Object.keys(e.data).length) {
    return [text, folded('details', JSON.stringify(e.data, null, 2))];
  }
  return text;
}

// An incident's (or problem's) timeline, oldest first, as an ordered list.
export function timeline(entries) {
  if (!entries || !entries.length) return h('p', { class: 'muted' }, 'Nothing on the timeline yet.');
  return h('ol', { class: 'timeline' }, entries.map((e) =>
    h('li', { class: `entry kind-${e.kind}`, dataset: { kind: e.kind, id: e.id } },
      h('div', { class: 'entry-head' },
        timeEl(e.time),
        h('span', { class: `badge kind kind-${e.kind}` }, KIND_WORDS[e.kind] || e.kind),
        h('span', { class: 'actor' }, e.actor || '')),
      entryBody(e))));
}

// Calls fn at once, or once more after the call in progress: a burst of
// stream messages costs at most two fetches, and the last one sees the
// newest state.
export function coalesced(fn) {
  let running = null;
  let again = false;
  return () => {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do { again = false; await fn(); } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

// How often a page that follows the stream looks again while the stream is down.
export const FALLBACK_POLL_MS = 15000;

// For a page that follows the live stream: fn once the stream comes back
// or cannot replay what was missed (reset), and every ms while it is down
// (a slow fallback; nothing while it is up). Returns the stop.
export function whenStreamMisses(ctx, fn, ms = FALLBACK_POLL_MS) {
  const poll = poller(async () => {
    if (!(ctx.stream && ctx.stream.connected)) await fn();
  }, ms);
  const offStatus = ctx.on('status', (st) => { if (st && st.connected) fn(); });
  const offReset = ctx.on('reset', () => fn());
  poll.start();
  return () => { poll.stop(); offStatus(); offReset(); };
}

// A timer that refreshes a page while it shows something in motion; it
// stops when the page goes.
export function poller(fn, ms) {
  let t = null;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    try {
      await fn();
    } finally {
      if (!stopped) t = setTimeout(tick, ms);
    }
  };
  return {
    start() { if (!t && !stopped) t = setTimeout(tick, ms); },
    stop() { stopped = true; clearTimeout(t); },
  };
}
