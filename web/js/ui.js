// Small DOM helpers. Text from data goes in through textContent (el()'s
// string children and the `text` attribute) and never through innerHTML,
// so nothing hale or a user wrote can become markup.

// el('button', {class: 'btn', onclick: fn, 'aria-label': 'Close'}, 'Close', child, ...)
// Attributes: class, text, dataset (object), style (object: the CSP allows
// no style attribute, so styles go through the CSSOM), on<event>
// (function), hidden, disabled and other booleans (true/false), anything
// else via setAttribute.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'style') Object.assign(node.style, v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// Replaces node's children.
export function mount(node, ...children) {
  clear(node);
  append(node, children);
  return node;
}

// Says msg to screen readers (and shows it briefly).
// A notice stays this long, then fades out (as long as the CSS's .live
// transition) and is emptied: it must not cover the page for long.
const NOTICE_MS = 4000;
const FADE_MS = 400;

export function announce(msg) {
  const live = document.getElementById('live');
  if (!live) return;
  live.textContent = msg;
  live.classList.remove('fading');
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    live.classList.add('fading');
    announce.timer = setTimeout(() => { live.textContent = ''; live.classList.remove('fading'); }, FADE_MS);
  }, NOTICE_MS);
}

// An error box with the API's reason (an ApiError) or the message.
export function errorBox(err) {
  const reason = err && (err.reason || err.message) ? (err.reason || err.message) : String(err);
  return el('div', { class: 'error', role: 'alert' }, reason);
}

const RTF = typeof Intl !== 'undefined' && Intl.RelativeTimeFormat
  ? new Intl.RelativeTimeFormat('en', { numeric: 'auto' }) : null;

// "3 minutes ago" for an RFC 3339 time or Unix ms.
export function ago(t, now = Date.now()) {
  if (t === null || t === undefined || t === '') return '—';
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (Number.isNaN(ms)) return String(t);
  const s = Math.round((ms - now) / 1000);
  const abs = Math.abs(s);
  const [v, unit] = abs < 60 ? [s, 'second'] : abs < 3600 ? [Math.round(s / 60), 'minute']
    : abs < 86400 ? [Math.round(s / 3600), 'hour'] : [Math.round(s / 86400), 'day'];
  return RTF ? RTF.format(v, unit) : `${Math.abs(v)} ${unit}s ${v < 0 ? 'ago' : 'from now'}`;
}

// A <time> with the relative time shown and the absolute one as its title.
export function time(t) {
  if (!t) return el('span', { class: 'muted' }, '—');
  const d = new Date(t);
  const iso = Number.isNaN(d.getTime()) ? String(t) : d.toISOString();
  return el('time', { datetime: iso, title: Number.isNaN(d.getTime()) ? iso : d.toLocaleString() }, ago(t));
}

// A state as a coloured pill: ok, warning, critical, unknown, new,
// acknowledged, in_progress, resolved, closed, running, waiting, ...
export function badge(state, label) {
  const s = String(state || 'unknown');
  return el('span', { class: `badge s-${s.replace(/[^a-z0-9_-]/gi, '')}` }, label || s.replace(/_/g, ' '));
}

// "P1".."P5" as a pill.
export function priority(p) {
  return el('span', { class: `badge prio p${Number(p) || 5}`, title: `priority ${p}` }, `P${p}`);
}

// Whether the signed-in user's role grants perm ("read", "act", "admin").
export function can(me, perm) {
  return !!(me && Array.isArray(me.permissions) && me.permissions.includes(perm));
}

// A link inside the app: link('#/incidents/4', 'incident 4').
export function link(href, ...children) {
  return el('a', { href }, ...children);
}

// Sets document.title to "what · hale".
export function title(what) {
  document.title = what ? `${what} · hale` : 'hale';
}
