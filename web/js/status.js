// The public status page (/status): what is broken and whether it is being
// fixed, in plain words, from GET /api/v1/public/status (no sign-in).
// Refreshes itself every 30 seconds.

import { el, mount, ago } from './ui.js';

const REFRESH_MS = 30 * 1000;

const overall = document.getElementById('overall');
const list = document.getElementById('services');
const updated = document.getElementById('updated');

async function load() {
  let s;
  try {
    const res = await fetch('/api/v1/public/status', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    s = await res.json();
    if (!res.ok) throw new Error(s.reason || `HTTP ${res.status}`);
  } catch (e) {
    overall.className = 'overall';
    mount(overall, el('p', {}, `The status cannot be read right now (${e.message}). This page tries again by itself.`));
    return;
  }
  overall.className = `overall ${s.state}`;
  mount(overall, el('p', { id: 'overall-summary' }, s.state === 'operational' ? 'All services are working normally.' : s.summary));
  mount(list, s.services.length ? s.services.map((v) => el('li', { dataset: { service: v.name, state: v.state } },
    el('h3', {}, v.name, el('span', { class: `badge s-${v.state}` }, v.state === 'outage' ? 'Down' : 'Degraded')),
    el('p', {}, v.message),
    el('p', { class: 'muted' }, 'Since ', el('time', { datetime: v.since || '' }, v.since ? `${new Date(v.since).toLocaleString()} (${ago(v.since)})` : 'recently'))))
    : el('li', { class: 'muted' }, 'None: every service works.'));
  updated.textContent = `Updated ${new Date(s.updated_at).toLocaleTimeString()}; this page refreshes by itself.`;
}

load();
setInterval(load, REFRESH_MS);
