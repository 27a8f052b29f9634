// moto_server (the AWS emulator, installed by scripts/setup.sh into .cache/venv) on 127.0.0.1,
// and a fault-injecting proxy in front of it: throttling, dropped connections, AccessDenied.
// Shared by the unit tests (rotation, account checks) and the VS Code harness.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** moto's own server app, run by test/aws/moto_server.py, which adds a clock for seeding old resources. */
function motoCommand() {
  if (process.env.KEYSENTRY_MOTO_PYTHON) return [process.env.KEYSENTRY_MOTO_PYTHON, path.join(ROOT, 'test', 'aws', 'moto_server.py')];
  const local = path.join(ROOT, '.cache', 'venv', 'bin', 'python');
  return [existsSync(local) ? local : 'python3', path.join(ROOT, 'test', 'aws', 'moto_server.py')];
}

async function freePort() {
  const srv = http.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/** Starts moto_server; resolves to { endpoint, reset(), backdate(kind, id, days), stop() }. */
export async function startMoto() {
  const port = await freePort();
  // AWS managed policies (AWSCompromisedKeyQuarantineV3…) are loaded only on request.
  const [cmd, ...args] = motoCommand();
  const child = spawn(cmd, [...args, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true' } });
  let err = '';
  // moto logs every request: keep only the tail, for start-up errors.
  child.stderr.on('data', (d) => (err = (err + d.toString()).slice(-4000)));
  child.on('error', (e) => (err += String(e)));
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
    /** Moves an access key's creation or an instance's launch `days` into the past. */
    backdate: async (kind, id, days) => {
      const r = await fetch(`${endpoint}/__keysentry/backdate?kind=${kind}&id=${encodeURIComponent(id)}&days=${days}`, { method: 'POST' });
      if (!r.ok) throw new Error(`moto: cannot backdate ${kind} ${id}`);
    },
    /** Stores CloudTrail records (the log-file shape) that LookupEvents then answers from. */
    seedTrail: async (records) => {
      const r = await fetch(`${endpoint}/__keysentry/cloudtrail`, { method: 'POST', body: JSON.stringify({ Records: records }) });
      if (!r.ok) throw new Error('moto: cannot seed CloudTrail records');
    },
    /** Gives an existing access key this secret (moto makes only alphanumeric ones). */
    setSecret: async (id, secret) => {
      const r = await fetch(`${endpoint}/__keysentry/set-secret?id=${encodeURIComponent(id)}`, { method: 'POST', body: secret });
      if (!r.ok) throw new Error(`moto: no access key ${id}`);
    },
    /** The secrets the next CreateAccessKey calls return, in order. */
    nextSecrets: async (secrets) => {
      await fetch(`${endpoint}/__keysentry/next-secrets`, { method: 'POST', body: secrets.join('\n') });
    },
    stop: () => child.kill(),
  };
}

// EC2 answers errors in its own envelope; IAM and STS in the query-protocol one.
const ec2ErrorXml = (code, message) => `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>keysentry-proxy</RequestID></Response>`;
const errorXml = (code, message) =>
  `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>keysentry-proxy</RequestId></ErrorResponse>`;

/** The action of a REST-JSON request the audit makes (GuardDuty, Account), from its method and path. */
function restJsonAction(method, pathname) {
  if (pathname === '/detector') return method === 'GET' ? 'ListDetectors' : 'CreateDetector';
  if (pathname === '/getAlternateContact') return 'GetAlternateContact';
  if (pathname === '/putAlternateContact') return 'PutAlternateContact';
  return undefined;
}

/**
 * A proxy in front of `target`: inject(action, 'throttle'|'drop'|'deny', times, skip = 0) fails
 * the next calls of that API action (after letting `skip` of them through); `injected` counts faults per action, `calls` lists every action.
 * 'hang' forwards the call to moto (so AWS acts on it) and never answers the client: the state a
 * process is in when it is killed after AWS acted but before it could journal the answer.
 * `onAnswered(fn)` is told (action) each time moto has answered a hung call.
 */
export async function startFaultProxy(target) {
  const rules = new Map();
  const injected = new Map();
  const calls = [];
  const hung = [];
  const answered = new Set();
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const params = new URLSearchParams(body.toString('utf8'));
      // Query protocol (IAM, STS, EC2): Action=…; JSON protocol (CloudTrail): X-Amz-Target: Service.Action.
      const jsonTarget = req.headers['x-amz-target'];
      // REST-JSON services (GuardDuty, Account) name the action by method and path (audit hardening).
      const rest = restJsonAction(req.method, new URL(req.url ?? '/', 'http://x').pathname);
      const action = (typeof jsonTarget === 'string' ? jsonTarget.split('.').pop() : undefined) ?? rest ?? params.get('Action') ?? new URL(req.url ?? '/', 'http://x').searchParams.get('Action') ?? '?';
      calls.push(action);
      let rule = rules.get(action)?.find((r) => r.left > 0);
      if (rule?.skip) {
        rule.skip--;
        rule = undefined;
      }
      if (rule) {
        rule.left--;
        injected.set(action, (injected.get(action) ?? 0) + 1);
        if (rule.fault === 'hang') {
          // handled below, after the call reaches moto
        } else if (rule.fault === 'drop') {
          req.socket.destroy();
          return;
        }
        if ((typeof jsonTarget === 'string' || rest) && rule.fault !== 'hang') {
          const [status, type] = rule.fault === 'throttle' ? [400, 'ThrottlingException'] : [400, 'AccessDeniedException'];
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: type, message: rule.fault === 'throttle' ? 'Rate exceeded' : `User is not authorized to perform: cloudtrail:${action}` }));
          return;
        }
      }
      if (rule && rule.fault !== 'hang') {
        const ec2 = params.get('Version') === '2016-11-15';
        const [status, code, msg] = ec2
          ? rule.fault === 'throttle'
            ? [503, 'RequestLimitExceeded', 'Request limit exceeded.']
            : [403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.']
          : rule.fault === 'throttle'
            ? [400, 'Throttling', 'Rate exceeded']
            : [403, 'AccessDenied', `User is not authorized to perform: iam:${action}`];
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(ec2 ? ec2ErrorXml(code, msg) : errorXml(code, msg));
        return;
      }
      if (rule?.fault === 'hang') {
        // Forward, let moto act, and keep the client waiting (until it is killed or the proxy stops).
        const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          up.resume();
          up.on('end', () => {
            hung.push(res);
            for (const fn of answered) fn(action);
          });
        });
        fwd.on('error', () => res.destroy());
        fwd.end(body);
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
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    inject: (action, fault, times, skip = 0) => rules.set(action, [...(rules.get(action) ?? []), { fault, left: times, skip }]),
    injected,
    calls,
    onAnswered: (fn) => {
      answered.add(fn);
      return () => answered.delete(fn);
    },
    /** Forgets every rule not yet used up. */
    clear: () => rules.clear(),
    stop: () =>
      new Promise((r) => {
        for (const res of hung.splice(0)) res.destroy();
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}
