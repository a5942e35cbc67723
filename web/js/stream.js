// The live stream (GET /api/v1/stream, server-sent events) read with
// fetch() so the Authorization header can be sent (EventSource cannot).
// Reconnects by itself after the server's `retry:` delay with
// Last-Event-ID, so missed messages are replayed; when hale cannot replay
// (it restarted, or too much was missed) it sends `reset`, which tells
// listeners to refetch what they show.
//
//   const s = new Stream(() => token());
//   const off = s.on('incident', (incident) => ...);   // 'check', 'reset', 'status'
//   s.start();  ...  off();  s.stop();

export class Stream {
  constructor(getToken, path = '/api/v1/stream') {
    this.getToken = getToken;
    this.path = path;
    this.listeners = new Map();
    this.lastId = null;
    this.retryMs = 3000;
    this.controller = null;
    this.running = false;
    this.connected = false;
    this.timer = null;
  }

  // fn(data, event) for events of type; returns a function that removes it.
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, data, ev) {
    for (const fn of this.listeners.get(type) || []) {
      try { fn(data, ev); } catch (e) { console.warn('stream listener failed', e); }
    }
  }

  setConnected(c) {
    if (this.connected === c) return;
    this.connected = c;
    this.emit('status', { connected: c });
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.setConnected(false);
  }

  async connect() {
    if (!this.running) return;
    const t = this.getToken();
    if (!t) { this.stop(); return; }
    const headers = { Authorization: `Bearer ${t}`, Accept: 'text/event-stream' };
    if (this.lastId) headers['Last-Event-ID'] = this.lastId;
    this.controller = new AbortController();
    try {
      const res = await fetch(this.path, { headers, signal: this.controller.signal, cache: 'no-store' });
      if (res.status === 401) { this.emit('unauthorized', {}); this.stop(); return; }
      if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
      this.setConnected(true);
      await this.read(res.body);
    } catch (e) {
      if (!this.running || e.name === 'AbortError') return;
    }
    this.setConnected(false);
    if (this.running) this.timer = setTimeout(() => this.connect(), this.retryMs);
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      // Messages end with a blank line; lines end with \n, \r\n or \r.
      let m;
      while ((m = /\r\n\r\n|\n\n|\r\r/.exec(buf))) {
        this.dispatch(buf.slice(0, m.index));
        buf = buf.slice(m.index + m[0].length);
      }
    }
  }

  dispatch(block) {
    let event = 'message';
    const data = [];
    let id = null;
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    if (id !== null) this.lastId = id;
    if (!data.length) return;
    let parsed;
    try { parsed = JSON.parse(data.join('\n')); } catch (_) { return; }
    this.emit(event, parsed, { id, event });
  }
}
