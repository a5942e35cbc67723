// The app shell: sign-in, the navigation the role allows, and a router on
// location.hash ("#/incidents/42?state=open") that loads one page module
// (web/js/pages/<name>.js, exporting render(root, ctx)) per view.
//
// ctx, given to every page:
//   api       api.js's get/post/del/request (bearer token added)
//   stream    the shared live stream (stream.js); ctx.on() is the safe way in
//   me        GET /api/v1/whoami: {name, role, permissions}
//   can(p)    whether me has permission p ("read", "act", "admin")
//   params    the route's parameters ({id: "42"})
//   query     the hash's query as URLSearchParams
//   navigate(path)  goes to "#/path" (path without the "#")
//   on(type, fn)    a stream listener removed when the page goes
//   signal    an AbortSignal aborted when the page goes
// render() may return a function, called when the page goes.

import { api, setToken, token, setUnauthorizedHandler } from './api.js';
import { Stream } from './stream.js';
import { el, mount, errorBox, can, title, announce } from './ui.js';

// Views, in nav order: route pattern -> page module. `nav` labels those in the menu.
const ROUTES = [
  { pattern: '/', page: 'overview', nav: 'Overview', perm: 'read' },
  { pattern: '/incidents', page: 'incidents', nav: 'Incidents', perm: 'read' },
  { pattern: '/incidents/:id', page: 'incident', perm: 'read' },
  { pattern: '/runs', page: 'runs', nav: 'Runs', perm: 'read' },
  { pattern: '/runs/:id', page: 'run', perm: 'read' },
  { pattern: '/problems', page: 'problems', nav: 'Problems', perm: 'read' },
  { pattern: '/problems/:id', page: 'problems', perm: 'read' },
  { pattern: '/reports', page: 'reports', nav: 'Reports', perm: 'read' },
  { pattern: '/reports/:id', page: 'reports', perm: 'read' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const whoName = document.getElementById('who-name');

let me = null;
let stream = null;
let current = null; // {cleanup, controller, offs}

function match(path) {
  const segs = path.split('/').filter(Boolean);
  for (const r of ROUTES) {
    const ps = r.pattern.split('/').filter(Boolean);
    if (ps.length !== segs.length) continue;
    const params = {};
    if (ps.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(segs[i])), true) : p === segs[i]))) {
      return { route: r, params };
    }
  }
  return null;
}

function parseHash() {
  const h = location.hash.replace(/^#/, '') || '/';
  const q = h.indexOf('?');
  return { path: q < 0 ? h : h.slice(0, q), query: new URLSearchParams(q < 0 ? '' : h.slice(q + 1)) };
}

export function navigate(path) {
  const target = `#${path.startsWith('/') ? path : `/${path}`}`;
  if (location.hash === target) route();
  else location.hash = target;
}

function leave() {
  if (!current) return;
  current.controller.abort();
  for (const off of current.offs) off();
  if (typeof current.cleanup === 'function') {
    try { current.cleanup(); } catch (e) { console.warn(e); }
  }
  current = null;
}

function renderNav(active) {
  mount(nav, el('ul', {}, ROUTES.filter((r) => r.nav && can(me, r.perm)).map((r) => {
    const href = `#${r.pattern}`;
    const on = active && (active.nav ? active === r : active.pattern.startsWith(`${r.pattern}/`));
    return el('li', {}, el('a', { href, 'aria-current': on ? 'page' : false }, r.nav));
  })));
  nav.hidden = false;
  who.hidden = false;
  mount(whoName, el('span', { class: 'who-name' }, me.name), ' ', el('span', { class: 'badge role' }, me.role));
}

async function route() {
  if (!me) return;
  leave();
  const { path, query } = parseHash();
  const m = match(path);
  renderNav(m && m.route);
  if (!m) {
    title('Not found');
    mount(main, el('h1', {}, 'Not found'), el('p', {}, 'There is no such page. ', el('a', { href: '#/' }, 'Go to the overview'), '.'));
    return;
  }
  if (!can(me, m.route.perm)) {
    title('Not allowed');
    mount(main, el('h1', {}, 'Not allowed'),
      el('p', {}, `Your token '${me.name}' has role ${me.role}, which cannot read incidents and checks. Sign in with a token of role viewer, responder or admin.`));
    return;
  }
  const controller = new AbortController();
  const offs = [];
  const page = { controller, offs, cleanup: null };
  current = page;
  const ctx = {
    api, stream, me, params: m.params, query, navigate,
    can: (p) => can(me, p),
    signal: controller.signal,
    on: (type, fn) => { const off = stream.on(type, fn); offs.push(off); return off; },
  };
  mount(main, el('p', { class: 'muted', 'aria-busy': 'true' }, 'Loading…'));
  let mod;
  try {
    mod = await import(`./pages/${m.route.page}.js`);
  } catch (e) {
    if (current === page) mount(main, errorBox(`This page cannot be loaded: ${e.message}`));
    return;
  }
  if (current !== page) return; // navigated away meanwhile
  const root = el('div', { class: `page page-${m.route.page}` });
  mount(main, root);
  try {
    page.cleanup = await mod.render(root, ctx);
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (current === page) mount(root, errorBox(e));
  }
  if (current !== page && typeof page.cleanup === 'function') page.cleanup();
}

function showSignIn(reason) {
  leave();
  if (stream) stream.stop();
  stream = null;
  me = null;
  nav.hidden = true;
  who.hidden = true;
  title('Sign in');
  const input = el('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-hint' });
  const msg = el('div', { id: 'signin-msg' });
  const form = el('form', { class: 'signin card', 'aria-labelledby': 'signin-h' },
    el('h1', { id: 'signin-h' }, 'Sign in to hale'),
    el('div', { class: 'field' },
      el('label', { for: 'token' }, 'API token'), input,
      el('small', { id: 'token-hint', class: 'muted' }, 'A token from ', el('code', {}, 'hale token create NAME --role viewer'),
        '. It is kept in this tab only and forgotten when the tab closes.')),
    msg,
    el('button', { type: 'submit', class: 'btn primary' }, 'Sign in'));
  if (reason) msg.append(errorBox(reason));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    if (!t) return;
    setToken(t);
    mount(msg);
    if (await signIn()) return;
    mount(msg, errorBox(lastSignInError));
    input.focus();
  });
  mount(main, form);
  input.focus();
}

let lastSignInError = null;

// With the stored token: whoami, the stream, the page. False when the token does not work.
async function signIn() {
  try {
    me = await api.get('whoami', null, { public: false });
  } catch (e) {
    lastSignInError = e;
    setToken(null);
    me = null;
    return false;
  }
  stream = new Stream(token);
  stream.on('status', ({ connected }) => {
    document.body.classList.toggle('offline', !connected);
    const dot = document.getElementById('live-dot');
    if (dot) {
      dot.textContent = connected ? 'live' : 'reconnecting';
      dot.className = connected ? 'live-dot on' : 'live-dot';
    }
  });
  stream.on('unauthorized', () => showSignIn('Your token stopped working (revoked?): sign in again.'));
  if (can(me, 'read')) stream.start();
  announce(`Signed in as ${me.name} (${me.role})`);
  route();
  return true;
}

function signOut() {
  setToken(null);
  showSignIn();
  announce('Signed out');
}

setUnauthorizedHandler((err) => {
  if (me) showSignIn(err.reason);
});

document.getElementById('sign-out').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
who.prepend(el('span', { id: 'live-dot', class: 'live-dot', title: 'live updates from /api/v1/stream' }, 'connecting'));

if (token()) {
  signIn().then((ok) => { if (!ok) showSignIn(lastSignInError); });
} else {
  showSignIn();
}
