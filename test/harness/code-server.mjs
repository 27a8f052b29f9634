// Starts code-server (real VS Code 1.100.3: server + web workbench + the real extension host)
// on a free loopback port with a fresh user-data dir, and drives it with Debian Chromium.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureCodeServer } from './ensure-code-server.mjs';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Starts code-server; resolves once it listens. `stop()` kills it and removes its temp dirs. */
export async function startCodeServer({ env = {}, log = () => {}, extensions, settings = {} } = {}) {
  const bin = ensureCodeServer({ log: (m) => console.error(m) });
  const port = await freePort();
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'keysentry-cs-user-'));
  const extensionsDir = extensions ?? mkdtempSync(path.join(tmpdir(), 'keysentry-cs-ext-'));
  // No welcome page over the workspace; no telemetry or update prompts in screenshots.
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'workbench.tips.enabled': false, ...settings }, null, 2));
  const args = [
    bin, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--disable-getting-started-override', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
  ];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const onData = (b) => {
    const s = b.toString();
    output += s;
    log(s);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const started = Date.now();
  await new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (/HTTP server listening on/.test(output)) {
        clearInterval(timer);
        resolve();
      } else if (child.exitCode !== null || Date.now() - started > 60_000) {
        clearInterval(timer);
        reject(new Error(`code-server did not start (exit ${child.exitCode}):\n${output.slice(-2000)}`));
      }
    }, 100);
  });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(userDataDir, { recursive: true, force: true });
    if (!extensions) rmSync(extensionsDir, { recursive: true, force: true });
  };
  return { port, url: `http://127.0.0.1:${port}`, userDataDir, extensionsDir, child, output: () => output, stop };
}

export function workbenchUrl(port, folder, { extensionDevelopmentPath, extensionTestsPath } = {}) {
  const payload = [];
  if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', `vscode-remote://127.0.0.1:${port}${extensionDevelopmentPath}`]);
  if (extensionTestsPath) payload.push(['extensionTestsPath', `vscode-remote://127.0.0.1:${port}${extensionTestsPath}`]);
  const q = new URLSearchParams({ folder });
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `http://127.0.0.1:${port}/?${q}`;
}

export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60_000,
  });
}
