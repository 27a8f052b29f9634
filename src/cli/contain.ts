import path from 'node:path';
import { userInfo } from 'node:os';
import { regionOf, resolveTarget } from '../aws/clients';
import { actionTargets, describePlan, planAction, runPlan, type ActionKind, type ActionPlan, type ActionTarget } from '../core/incidents/actions';
import { IncidentBook } from '../core/incidents/book';
import type { Incident, ResourceRef } from '../core/incidents/types';
import { keysentryHome } from '../core/home';
import { escapeLines } from '../core/escape';
import { redact } from '../core/mask';
import { KeysentryError } from '../core/types';
import { formatFlag, parseArgs } from './args';
import type { Io } from './io';

/** The command's action names, and the action each runs. */
const ACTIONS: Record<string, ActionKind> = {
  isolate: 'isolate-instance',
  release: 'release-instance',
  stop: 'stop-instance',
  terminate: 'terminate-instance',
  'revoke-ingress': 'revoke-ingress',
  'restrict-egress': 'restrict-egress',
  'delete-key-pair': 'delete-key-pair',
  'replace-key-pair': 'replace-key-pair',
  'deactivate-key': 'deactivate-key',
  'revoke-sessions': 'revoke-sessions',
};
const RESOURCE: Partial<Record<ActionKind, ResourceRef['kind']>> = {
  'isolate-instance': 'instance',
  'release-instance': 'instance',
  'stop-instance': 'instance',
  'terminate-instance': 'instance',
  'revoke-ingress': 'security-group',
  'restrict-egress': 'security-group',
  'delete-key-pair': 'key-pair',
  'replace-key-pair': 'key-pair',
  'deactivate-key': 'access-key',
  'rotate-key': 'access-key',
  'revoke-sessions': 'user',
};

export const CONTAIN_USAGE = `usage: keysentry contain ACTION TARGET [--region R] [--incident ID] [--profile P] [--endpoint-url URL]
         [--plan] [--yes] [--format text|json] [--asg standby|detach] [--nacl] [--user NAME]

Runs one containment action on the same core as the editor's runbook buttons. It first reads the
current state and prints the plan (every call, in order, and what to know); it runs only with
--yes or after a yes on a terminal, never without a terminal and without --yes.

ACTION and TARGET:
  isolate i-…            each network interface: record its groups (tags + the incident's
                         timeline), move it to an all-traffic group and then to a group with no
                         rules (this cuts connections already open); Auto Scaling Standby first
                         (--asg detach to detach instead); termination protection; snapshots.
                         --nacl also gives the subnet a deny-all network ACL (every resource in it).
                         An isolated instance is recognised from its tags: only what is missing runs.
  release i-…            restore the recorded groups, Auto Scaling state and network ACL
  stop i-… / terminate i-…
  revoke-ingress sg-…    remove SSH, RDP and all-port rules open to the internet
  restrict-egress sg-…   remove outbound rules to the internet
  delete-key-pair NAME   delete EC2's copy (authorized_keys on instances still trusts it)
  replace-key-pair NAME  create a new key pair; its private key goes to ~/.ssh/NAME.pem (0600)
  deactivate-key AKIA…   set an access key Inactive (--user when it is not yours to look up)
  revoke-sessions USER   deny every session issued to USER before now

--incident ID records the result in that incident's timeline ($KEYSENTRY_HOME/incidents.json);
without it, the open incident that names TARGET is used when there is exactly one.
--plan prints the plan and stops.
Exit status: 0 done (or plan printed), 1 refused, declined or nothing to do, 2 error.`;

const ID_SHAPE: Partial<Record<ResourceRef['kind'], RegExp>> = {
  instance: /^i-[0-9a-f]{8,40}$/,
  'security-group': /^sg-[0-9a-f]{8,40}$/,
  'access-key': /^(AKIA|ASIA)[A-Z0-9]{12,124}$/,
};

function planJson(plan: ActionPlan): unknown {
  return { title: plan.title, checked: plan.checked, calls: plan.calls.map((c) => ({ api: c.api, target: c.target, region: c.region ?? null, what: c.what })), warnings: plan.warnings };
}

export async function containCommand(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(argv, ['region', 'incident', 'profile', 'endpoint-url', 'format', 'asg', 'user', 'key-dir'], ['plan', 'yes', 'nacl', 'help']);
  if (a.flags.has('help')) {
    io.out(CONTAIN_USAGE);
    return 0;
  }
  const format = formatFlag(a, ['text', 'json'] as const);
  const [action, id, extra] = a.positional;
  if (!action || !id || extra !== undefined) throw new KeysentryError(`contain takes an ACTION and a TARGET\n\n${CONTAIN_USAGE}`);
  const kind = ACTIONS[action];
  if (!kind) throw new KeysentryError(`unknown action "${escapeLines(action.slice(0, 40))}": one of ${Object.keys(ACTIONS).join(', ')}`);
  const resourceKind = RESOURCE[kind];
  if (!resourceKind) throw new KeysentryError(`${kind} is not a containment action of this command`);
  const shape = ID_SHAPE[resourceKind];
  if (shape && !shape.test(id)) throw new KeysentryError(`"${escapeLines(id.slice(0, 60))}" is not ${resourceKind === 'instance' ? 'an instance id (i-…)' : resourceKind === 'security-group' ? 'a security group id (sg-…)' : 'an access key id'}`);
  if (id.length > 255 || escapeLines(id) !== id) throw new KeysentryError('TARGET is not a resource name');
  const asg = a.flags.get('asg') as string | undefined;
  if (asg !== undefined && asg !== 'standby' && asg !== 'detach') throw new KeysentryError('--asg must be standby or detach');
  const opt = (n: string): string | undefined => a.flags.get(n) as string | undefined;
  const t = resolveTarget({ profile: opt('profile'), region: opt('region'), endpoint: opt('endpoint-url') });

  // The incident: named, or the one open incident that names this resource.
  const book = new IncidentBook(path.join(keysentryHome(), 'incidents.json'));
  if (book.loadProblem) io.err(`keysentry: warning: ${book.loadProblem}`);
  let incident: Incident | undefined;
  const wanted = opt('incident');
  if (wanted) {
    incident = book.get(wanted);
    if (!incident) throw new KeysentryError(`no incident "${escapeLines(wanted.slice(0, 120))}" in ${path.join(keysentryHome(), 'incidents.json')}`);
  } else {
    const naming = book.incidents.filter((i) => i.status !== 'resolved' && i.resources.some((r) => r.id === id && r.kind === resourceKind && (!opt('region') || !r.region || r.region === opt('region'))));
    if (naming.length === 1) incident = naming[0];
    else if (naming.length > 1) io.err(`keysentry: ${naming.length} open incidents name ${id} (${naming.map((i) => i.id).join(', ')}): add --incident ID to record the result in one`);
  }
  const fromIncident = incident && actionTargets(incident, kind).find((x) => x.resource.id === id && (!opt('region') || x.resource.region === opt('region')));
  const resource: ResourceRef = fromIncident?.resource ?? { kind: resourceKind, id, region: resourceKind === 'access-key' || resourceKind === 'user' ? undefined : await regionOf(t), ...(opt('user') ? { user: opt('user') } : {}) };
  if (opt('region') && resource.region && resource.region !== opt('region')) resource.region = opt('region');
  const target: ActionTarget = {
    kind,
    resource,
    label: `${action} ${id}`,
    options: { asg: asg as 'standby' | 'detach' | undefined, nacl: a.flags.has('nacl'), keyDir: opt('key-dir'), workspaceRoots: [io.cwd] },
  };
  // Planning needs an incident (its id tags what the action creates); without one, a stand-in that is not saved.
  const now = new Date().toISOString();
  const subject: Incident = incident ?? { id: `cli:${kind}:${id}`.slice(0, 250), type: 'compromised-instance', severity: 'high', title: target.label, summary: '', source: 'manual', resources: [resource], facts: [], status: 'open', createdAt: now, updatedAt: now, steps: {}, timeline: [] };

  const { AwsContainment, explainCall } = await import('../aws/containment');
  const ops = new AwsContainment(t);
  let plan: ActionPlan;
  try {
    plan = await planAction(target, subject, ops, [...book.incidents]);
  } catch (e) {
    const message = explainCall(kind, e);
    const refused = e instanceof KeysentryError;
    if (format === 'json') io.out(JSON.stringify({ action, target: id, incident: incident?.id ?? null, done: false, refused: message }, null, 2));
    else io.err(`keysentry: ${action} ${id}: ${escapeLines(redact(message))}`);
    if (incident && refused) book.record(incident.id, { actor: actor(), kind: 'note', text: `${target.label}: not run: ${message}` });
    return refused ? 1 : 2;
  }
  const show = (extra: Record<string, unknown> = {}): void => {
    if (format === 'json') io.out(JSON.stringify(redactJson({ action, target: id, incident: incident?.id ?? null, plan: planJson(plan), ...extra }), null, 2));
  };
  if (format === 'text') io.out(escapeLines(redact(describePlan(plan))));
  if (a.flags.has('plan')) {
    show({ done: false });
    return 0;
  }
  if (!a.flags.has('yes')) {
    if (!io.confirm) {
      show({ done: false, refused: 'no terminal to confirm on: add --yes to run it' });
      if (format === 'text') io.err('keysentry: not run: there is no terminal to confirm on. Add --yes to run it without a prompt.');
      return 1;
    }
    if (!(await io.confirm(`Run these ${plan.calls.length} call(s)?`))) {
      show({ done: false, refused: 'declined' });
      if (format === 'text') io.err('keysentry: not run.');
      return 1;
    }
  }
  const result = await runPlan(plan, (api, e) => explainCall(api, e), (c, i) => io.progress?.(`keysentry: ${i + 1}/${plan.calls.length} ${c.api} ${c.target}`));
  io.progress?.('');
  if (incident) book.recordAction(incident.id, plan.title, result, actor());
  show({ done: result.ok, calls: result.calls, error: result.error ?? null, recordedIn: incident?.id ?? null });
  if (format === 'text') {
    const lines = result.calls.map((c) => `  ${c.ok ? 'ok' : 'FAILED'} ${c.api} ${c.target}${c.ok ? '' : `: ${c.error}`}`);
    lines.push(result.ok ? `${plan.title}: done.` : `${plan.title}: ${result.error}`);
    lines.push(incident ? `Recorded in the timeline of incident ${incident.id}.` : 'Not recorded in any incident (none names this resource; use --incident ID).');
    (result.ok ? io.out : io.err)(escapeLines(redact(lines.join('\n'))));
  }
  return result.ok ? 0 : 2;
}

const redactJson = (x: unknown): unknown => JSON.parse(redact(JSON.stringify(x)));

function actor(): string {
  let who = 'someone';
  try {
    who = userInfo().username;
  } catch {
    /* no user name: keep the placeholder */
  }
  return `${who} (keysentry contain)`;
}
