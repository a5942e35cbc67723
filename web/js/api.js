// The one way the UI talks to hale: fetch() on /api/v1/ with the bearer
// token kept in sessionStorage (never in a URL, gone when the tab closes).
// Every non-2xx answer becomes an ApiError carrying the API's own `reason`,
// which pages show as it is: it already says what to do.

const TOKEN_KEY = 'hale.token';

export class ApiError extends Error {
  constructor(status, error, reason, body) {
    super(reason || `HTTP ${status}`);
    this.status = status;
    this.error = error || 'http_error';
    this.reason = reason || `the server answered ${status}`;
    this.body = body;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Called with the ApiError of every 401, so the app can ask to sign in again.
let onUnauthorized = null;
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

function url(path, query) {
  const u = new URL(path.startsWith('/') ? path : `/api/v1/${path}`, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, v);
  }
  return u.pathname + u.search;
}

// request('GET', 'incidents', {query: {state: 'open'}}) -> parsed JSON.
// opts: query (object), body (JSON-encoded), as ('json' | 'text' | 'blob'),
// signal (AbortSignal), public (send no token).
export async function request(method, path, opts = {}) {
  const headers = { Accept: opts.as === 'text' ? 'text/*' : 'application/json' };
  const t = token();
  if (t && !opts.public) headers.Authorization = `Bearer ${t}`;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res;
  try {
    res = await fetch(url(path, opts.query), { method, headers, body, signal: opts.signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'hale cannot be reached: check that the daemon runs, then retry');
  }
  if (!res.ok) {
    let j = null;
    try { j = await res.json(); } catch (_) { /* not JSON: keep the status */ }
    const err = new ApiError(res.status, j && j.error, j && j.reason, j);
    if (res.status === 401 && onUnauthorized && !opts.public) onUnauthorized(err);
    throw err;
  }
  if (opts.as === 'text') return res.text();
  if (opts.as === 'blob') return res.blob();
  if (res.status === 204) return null;
  return res.json();
}

export const api = {
  get: (path, query, opts = {}) => request('GET', path, { ...opts, query }),
  post: (path, body, opts = {}) => request('POST', path, { ...opts, body }),
  del: (path, opts = {}) => request('DELETE', path, opts),
  request,
};
