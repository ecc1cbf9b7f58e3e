// A real chatd for the browser tests (its own temp data dir, the tiny model,
// a free port) and Debian's chromium driven by playwright-core.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run these tests through ctest`);
  return value;
}

/** Polls `condition` every 50 ms until it returns a truthy value (which it
 * resolves to) or `ms` pass; an exception it throws ends the wait. */
export async function eventually(condition, ms = 60000, what = 'condition') {
  const end = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}

export class Chatd {
  async start() {
    this.dir = mkdtempSync(join(tmpdir(), 'chat-web-'));
    const logPath = join(this.dir, 'chatd.log');
    const log = openSync(logPath, 'a');
    this.process = spawn(join(required('CHAT_TOOLS_DIR'), 'chatd'), [
      '--data-dir', this.dir, '--listen', '127.0.0.1:0',
      '--model.path', required('CHAT_TINY_MODEL_DIR'),
    ], { stdio: ['ignore', log, log] });
    this.exited = new Promise((resolve) => this.process.on('exit', resolve));
    const address = await eventually(async () => {
      const text = readFileSync(logPath, 'utf8');
      if (this.process.exitCode !== null) throw new Error(`chatd exited: ${text}`);
      const m = text.match(/chatd: listening.* address=(\S+)/);
      return m && m[1];
    }, 60000, 'chatd to listen');
    this.url = `http://${address}`;
    await eventually(() => fetch(`${this.url}/readyz`).then((r) => r.ok, () => false),
      60000, 'a worker to be ready');
    this.adminKey = readFileSync(join(this.dir, 'admin.key'), 'utf8').trim();
    return this;
  }

  /** Calls the API with the admin key (or `key`); returns the parsed body. */
  async api(method, path, body, key = this.adminKey) {
    const res = await fetch(this.url + path, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async stop() {
    if (this.process && this.process.exitCode === null) {
      this.process.kill('SIGTERM');
      await Promise.race([this.exited, delay(10000)]);
      if (this.process.exitCode === null) this.process.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Headless Debian chromium; Playwright downloads no browser of its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // Root (CI) cannot use chromium's sandbox.
    args: ['--no-sandbox'],
  });
}

/** A page that records console errors, failed loads and uncaught errors
 * (a CSP violation shows up as a console error). */
export async function watchedPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  page.on('pageerror', (e) => page.problems.push(e.message));
  return page;
}

/** Where screenshots go (under the build dir). */
export function artifact(name) {
  const dir = required('WEB_ARTIFACTS');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
