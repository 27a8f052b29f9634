// moto_server (the AWS emulator, installed by scripts/setup.sh into .cache/venv) on 127.0.0.1,
// and a fault-injecting proxy in front of it: throttling, dropped connections, AccessDenied.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function motoBinary(): string {
  const local = path.join(ROOT, '.cache', 'venv', 'bin', 'moto_server');
  return process.env.KEYSENTRY_MOTO_SERVER ?? (existsSync(local) ? local : 'moto_server');
}

async function freePort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface Moto {
  endpoint: string;
  reset(): Promise<void>;
  stop(): void;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  // AWS managed policies (AWSCompromisedKeyQuarantineV3…) are loaded only on request.
  const child: ChildProcess = spawn(motoBinary(), ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${err.slice(-500)} (run scripts/setup.sh to install it)`);
    const ok = await fetch(`${endpoint}/moto-api/`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > until) throw new Error(`moto_server did not start: ${err.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    reset: async () => {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    stop: () => child.kill(),
  };
}

export type Fault = 'throttle' | 'drop' | 'deny';
export interface FaultProxy {
  endpoint: string;
  /** Fail the next `times` calls of `action` with `fault`. */
  inject(action: string, fault: Fault, times: number): void;
  /** Faults injected so far, per action. */
  injected: Map<string, number>;
  /** Every action that passed through, in order. */
  calls: string[];
  stop(): Promise<void>;
}

const errorXml = (code: string, message: string): string =>
  `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>keysentry-proxy</RequestId></ErrorResponse>`;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules = new Map<string, Array<{ fault: Fault; left: number }>>();
  const injected = new Map<string, number>();
  const calls: string[] = [];
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = new URLSearchParams(body.toString('utf8')).get('Action') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('Action') ?? '?';
      calls.push(action);
      const rule = rules.get(action)?.find((r) => r.left > 0);
      if (rule) {
        rule.left--;
        injected.set(action, (injected.get(action) ?? 0) + 1);
        if (rule.fault === 'drop') {
          req.socket.destroy();
          return;
        }
        const [status, code, msg] = rule.fault === 'throttle' ? [400, 'Throttling', 'Rate exceeded'] : [403, 'AccessDenied', `User is not authorized to perform: iam:${action}`];
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(errorXml(code, msg));
        return;
      }
      const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inject: (action, fault, times) => rules.set(action, [...(rules.get(action) ?? []), { fault, left: times }]),
    injected,
    calls,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
