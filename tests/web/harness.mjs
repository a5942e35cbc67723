// SPDX-License-Identifier: MIT
// What the browser tests share: a real `hale serve` with its own SQLite
// store, config and free port in a temporary directory (HALE_BIN, default
// build/debug/hale), tokens made with `hale token create`, and Debian's
// headless Chromium driven by playwright-core (CHROMIUM, default
// /usr/bin/chromium). Every page records its console errors, which a test
// asserts are none, and saves a screenshot into the output directory
// (HALE_WEB_OUTPUT, default build/test-results/web).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// playwright-core is installed with the UI's npm packages, in web/.
const require = createRequire(join(ROOT, 'web', 'package.json'));
const { chromium } = require('playwright-core');

export const HALE_BIN = resolve(process.env.HALE_BIN || join(ROOT, 'build', 'debug', 'hale'));
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const OUTPUT = resolve(process.env.HALE_WEB_OUTPUT || join(ROOT, 'build', 'test-results', 'web'));
const START_TIMEOUT_MS = process.env.HALE_PRESET === 'asan' ? 15000 : 10000;

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Polls fn until it returns something truthy; fails naming what after timeoutMs.
export async function waitFor(fn, what, timeoutMs = 30000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export class Daemon {
  // config: YAML with @PORT@ where the port goes.
  constructor(config) {
    this.dir = mkdtempSync(join(tmpdir(), 'hale-web-'));
    this.configText = config;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  path(name) {
    return join(this.dir, name);
  }

  async start() {
    this.port = await freePort();
    this.config = join(this.dir, 'hale.yaml');
    writeFileSync(this.config, this.configText.replaceAll('@PORT@', String(this.port)));
    this.logPath = join(this.dir, 'hale.log');
    const log = await import('node:fs').then((fs) => fs.openSync(this.logPath, 'a'));
    this.proc = spawn(HALE_BIN, ['serve', '-c', this.config], { cwd: this.dir, stdio: ['ignore', log, log] });
    this.exited = new Promise((r) => this.proc.once('exit', (code, sig) => r({ code, sig })));
    await waitFor(async () => {
      if (this.proc.exitCode !== null) throw new Error(`hale exited with ${this.proc.exitCode}:\n${this.logs()}`);
      try {
        return (await fetch(`${this.url}/healthz`)).ok;
      } catch (_) {
        return false;
      }
    }, 'hale answering /healthz', START_TIMEOUT_MS);
    return this;
  }

  logs() {
    try { return readFileSync(this.logPath, 'utf8'); } catch (_) { return ''; }
  }

  token(name, role) {
    return execFileSync(HALE_BIN, ['token', 'create', '-c', this.config, name, '--role', role], { encoding: 'utf8' }).trim();
  }

  async api(method, path, token, body) {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  // SIGTERM; the daemon must exit 0 (under ASan a leak makes it fail).
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15000);
    const { code, sig } = await this.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`hale exited with ${code ?? sig}:\n${this.logs()}`);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root (CI, containers) Chromium's sandbox cannot start.
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
}

// A fresh context and page at width x height, recording console errors
// and uncaught exceptions in page.errors.
export async function newPage(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(OUTPUT, { recursive: true });
  await page.screenshot({ path: join(OUTPUT, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`), fullPage: true });
}

// Signs in through the form; resolves when the overview shows.
export async function signIn(page, daemon, token) {
  await page.goto(`${daemon.url}/`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}
