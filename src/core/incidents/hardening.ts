// Hardening checks of the audit (issue 14) and the actions that fix them. Each missing protection
// is an incident with its runbook (media/runbooks/incidents.json) and an action planned first (the
// read-only calls that establish the current state, then the exact changing calls), shown, and run
// only after confirmation, like the containment actions in ./actions. src/aws/hardening implements
// HardeningOps; tests run it against moto.
import { KeysentryError } from '../types';
import type { ActionPlan, ActionTarget, PlannedCall } from './actions';
import type { AccountSnapshot, Incident, IncidentDraft, ResourceRef } from './types';

export const HARDENING_KINDS = ['enable-guardduty', 'create-budget', 'set-security-contact', 'deactivate-other-keys'] as const;
export type HardeningKind = (typeof HARDENING_KINDS)[number];
export const HARDENING_VERBS: Record<HardeningKind, string> = {
  'enable-guardduty': 'Turn on GuardDuty in',
  'create-budget': 'Create a monthly budget with an e-mail alert for',
  'set-security-contact': 'Set the security contact of',
  'deactivate-other-keys': 'Deactivate every access key except the one signing, in',
};
export const HARDENING_RESOURCE: Record<HardeningKind, ResourceRef['kind']> = {
  'enable-guardduty': 'region',
  'create-budget': 'account',
  'set-security-contact': 'account',
  'deactivate-other-keys': 'account',
};
export const isHardeningKind = (k: string): k is HardeningKind => (HARDENING_KINDS as readonly string[]).includes(k);

/** What the audit read for the hardening checks. Facts not read are in `unread` (keys below) and `errors`. */
export interface HardeningFacts {
  /** Detector ids by region, for each region read (`unread['guardduty:REGION']` otherwise). */
  guardDuty: Record<string, string[]>;
  /** Every trail DescribeTrails lists (shadow trails of other regions included); undefined: `unread.trails`. */
  trails?: Array<{ name: string; arn?: string; homeRegion?: string; multiRegion: boolean; logging?: boolean; loggingUnread?: string }>;
  /** Alarms on AWS/Billing EstimatedCharges in us-east-1; undefined: `unread.billingAlarms`. */
  billingAlarms?: string[];
  /** Budget names; undefined: `unread.budgets`. */
  budgets?: string[];
  /** The SECURITY alternate contact; null: none set; undefined: `unread.securityContact`. */
  securityContact?: { email: string; name?: string } | null;
}

export type HardenedSnapshot = AccountSnapshot & { hardening?: HardeningFacts };

const account = (s: AccountSnapshot): ResourceRef => ({ kind: 'account', id: s.account });

/** The hardening incidents: what is missing, never what is present or could not be read. */
export function hardeningChecks(s: HardenedSnapshot): IncidentDraft[] {
  const h = s.hardening;
  if (!h) return [];
  const unread = s.unread ?? {};
  const out: IncidentDraft[] = [];

  const read = s.regions.filter((r) => h.guardDuty[r] !== undefined);
  const off = read.filter((r) => !h.guardDuty[r]!.length);
  const notRead = s.regions.filter((r) => h.guardDuty[r] === undefined);
  if (off.length) {
    // Home regions first: their button is the one that matters most.
    const home = new Set(s.homeRegions);
    const ordered = [...off.filter((r) => home.has(r)), ...off.filter((r) => !home.has(r))];
    out.push({
      id: `guardduty-off:${s.account}`,
      type: 'guardduty-off',
      severity: 'medium',
      title: `GuardDuty is off in ${off.length === s.regions.length ? `every audited region (${off.length})` : `${off.length} of ${s.regions.length} regions`}`,
      summary:
        'Without a GuardDuty detector nobody is told when an instance starts a DoS, mines, talks to a botnet or sends unusual volumes (Behavior:EC2/TrafficVolumeUnusual, Backdoor:EC2/DenialOfService.*), or when a key is used from an unusual place: the bill or an abuse notice tells you weeks later. GuardDuty is regional and a paid service after its 30-day free trial (priced by the events and logs it analyses).',
      resources: [...ordered.map((r): ResourceRef => ({ kind: 'region', id: r, label: home.has(r) ? 'home region' : undefined })), account(s)],
      facts: [
        ['Regions without a detector', ordered.join(', ')],
        ['Regions with a detector', read.filter((r) => h.guardDuty[r]!.length).join(', ') || 'none'],
        ...(notRead.length ? [['Not read', notRead.map((r) => `${r}: ${unread[`guardduty:${r}`] ?? 'not read'}`).join('; ')] as [string, string]] : []),
        ['Cost', 'GuardDuty is free for 30 days per region, then charged by the CloudTrail events, VPC flow logs and DNS logs it analyses'],
      ],
    });
  }

  if (h.trails) {
    const multi = h.trails.filter((t) => t.multiRegion);
    const logging = multi.filter((t) => t.logging === true);
    const unknown = multi.filter((t) => t.logging === undefined);
    // A multi-region trail whose status could not be read may be logging: unknown is not "missing".
    if (!logging.length && !unknown.length) {
      out.push({
        id: `no-trail:${s.account}`,
        type: 'no-trail',
        severity: 'medium',
        title: h.trails.length ? 'No multi-region CloudTrail trail is logging' : 'No CloudTrail trail records this account',
        summary:
          'Without a multi-region trail that is logging, API calls are kept only as 90 days of management events in each region\'s Event history (always on, no trail needed): no data events, nothing older, nothing in one place. After a compromise that is the record of what the attacker did.',
        resources: [account(s)],
        facts: [
          ['Trails', h.trails.length ? h.trails.map((t) => `${t.name} (${t.multiRegion ? 'multi-region' : `single-region, ${t.homeRegion ?? '?'}`}, ${t.logging === true ? 'logging' : t.logging === false ? 'not logging' : 'status unknown'})`).join('; ') : 'none'],
          ['Event history', 'the last 90 days of management events remain in CloudTrail → Event history, in every region, regardless'],
        ],
      });
    }
  }

  if (h.billingAlarms && h.budgets && !h.billingAlarms.length && !h.budgets.length) {
    out.push({
      id: `no-billing-alert:${s.account}`,
      type: 'no-billing-alert',
      severity: 'medium',
      title: 'No billing alarm and no budget: a spike is found at the end of the month',
      summary:
        'Neither a CloudWatch alarm on AWS/Billing EstimatedCharges (us-east-1) nor an AWS Budget exists, so nothing warns you when charges jump. In the seed-2 compromise the first sign was a billing spike from data transfer; an alert the same day shortens the attack by weeks.',
      resources: [account(s)],
      facts: [
        ['Billing alarms (us-east-1)', 'none'],
        ['Budgets', 'none'],
      ],
    });
  }

  if (h.securityContact === null) {
    out.push({
      id: `no-security-contact:${s.account}`,
      type: 'no-security-contact',
      severity: 'low',
      title: 'The account has no security contact',
      summary:
        'AWS sends abuse notices and security notifications to the security alternate contact as well as to the root e-mail address. Without one they reach only the root address, which is often an old or unread mailbox, and the 24-hour reply deadline passes.',
      resources: [account(s)],
      facts: [['Security contact (account:GetAlternateContact SECURITY)', 'none set']],
    });
  }
  return out;
}

/** Whether the audit could read what a hardening incident depends on (else it is never resolved by it). */
export function hardeningCovers(s: HardenedSnapshot, type: string): boolean | undefined {
  const h = s.hardening;
  const unread = s.unread ?? {};
  switch (type) {
    case 'guardduty-off':
      return !!h && s.regions.every((r) => h.guardDuty[r] !== undefined);
    case 'no-trail':
      return !!h?.trails && !h.trails.some((t) => t.multiRegion && t.logging === undefined);
    case 'no-billing-alert':
      // One of the two read and present is enough to say it is fixed.
      return !!h && ((!!h.billingAlarms && !!h.budgets) || !!h.billingAlarms?.length || !!h.budgets?.length);
    case 'no-security-contact':
      return !!h && h.securityContact !== undefined && !unread.securityContact;
    default:
      return undefined;
  }
}

/** The AWS side of the hardening actions (src/aws/hardening.ts). */
export interface HardeningOps {
  caller(): Promise<{ arn: string; account: string; accessKeyId?: string }>;
  detectors(region: string): Promise<string[]>;
  createDetector(region: string): Promise<string>;
  budgets(accountId: string): Promise<string[]>;
  createBudget(accountId: string, name: string, limitUsd: number, email: string): Promise<void>;
  securityContact(): Promise<{ email: string; name?: string } | null>;
  putSecurityContact(c: { email: string; name: string; phone: string; title: string }): Promise<void>;
  /** Every access key of every IAM user (ListUsers, ListAccessKeys). */
  accessKeys(): Promise<Array<{ user: string; id: string; status: string }>>;
  deactivateKey(user: string, keyId: string): Promise<void>;
}

/** What the user typed for an action (the editor asks, the tests pass it). */
export interface HardeningInputs {
  email?: string;
  limitUsd?: string;
  name?: string;
  phone?: string;
  title?: string;
}

/** The inputs an action needs, for the editor to ask in this order. */
export const HARDENING_INPUTS: Partial<Record<HardeningKind, Array<{ key: keyof HardeningInputs; prompt: string; placeholder?: string; value?: string }>>> = {
  'create-budget': [
    { key: 'email', prompt: 'E-mail address that receives the budget alerts', placeholder: 'you@example.com' },
    { key: 'limitUsd', prompt: 'Monthly budget in USD (alerts at 80 % of it spent and at 100 % forecast)', value: '20' },
  ],
  'set-security-contact': [
    { key: 'email', prompt: 'E-mail address of the security contact (abuse notices go to it)', placeholder: 'security@example.com' },
    { key: 'name', prompt: 'Name of the security contact', placeholder: 'Security team' },
    { key: 'phone', prompt: 'Phone number of the security contact (AWS requires one)', placeholder: '+1 555 0100' },
    { key: 'title', prompt: 'Title of the security contact', value: 'Security' },
  ],
};

// An address as AWS accepts it, bounded; no spaces, quotes, angle brackets or control characters.
const EMAIL = /^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+$/;

/** Why an input is not acceptable, or undefined. */
export function invalidInput(key: keyof HardeningInputs, v: string | undefined): string | undefined {
  const x = (v ?? '').trim();
  if (key === 'email') return EMAIL.test(x) && x.length <= 254 ? undefined : 'an e-mail address such as security@example.com';
  if (key === 'limitUsd') return /^\d{1,9}(\.\d{1,2})?$/.test(x) && Number(x) > 0 ? undefined : 'a positive amount in USD, such as 20';
  if (key === 'phone') return /^\+?[0-9 ()-]{4,25}$/.test(x) ? undefined : 'a phone number such as +1 555 0100';
  // Printable only: no control characters (a newline would forge a line of the plan), no angle brackets.
  return x.length >= 1 && x.length <= 64 && /^[^<>]+$/.test(x) && [...x].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f) ? undefined : '1 to 64 characters, no angle brackets';
}

function need(kind: HardeningKind, inputs: HardeningInputs): Required<HardeningInputs> {
  const out: Record<string, string> = {};
  for (const f of HARDENING_INPUTS[kind] ?? []) {
    const why = invalidInput(f.key, inputs[f.key]);
    if (why) throw new KeysentryError(`${f.prompt}: expected ${why}`);
    out[f.key] = (inputs[f.key] as string).trim();
  }
  return out as Required<HardeningInputs>;
}

export const BUDGET_NAME = 'keysentry-monthly-budget';

/** Plans a hardening action: reads the current state, then lists each changing call. Makes no change. */
export async function planHardening(target: ActionTarget, incident: Incident, ops: HardeningOps, inputs: HardeningInputs = {}): Promise<ActionPlan> {
  const kind = target.kind as HardeningKind;
  const r = target.resource;
  const checked: string[] = [];
  const calls: PlannedCall[] = [];
  const warnings: string[] = [];
  const plan = (title: string): ActionPlan => ({ target, title, checked, calls, warnings });
  switch (kind) {
    case 'enable-guardduty': {
      const region = r.id;
      const ids = await ops.detectors(region);
      checked.push(`guardduty:ListDetectors in ${region}: ${ids.length ? ids.join(', ') : 'no detector'}`);
      if (ids.length) throw new KeysentryError(`GuardDuty already has a detector in ${region} (${ids.join(', ')})`);
      calls.push({ api: 'guardduty:CreateDetector', target: region, region, what: `create an enabled GuardDuty detector in ${region}`, run: async () => `detector ${await ops.createDetector(region)}` });
      warnings.push('GuardDuty is a paid service after its 30-day free trial in each region: it is charged by the CloudTrail events, VPC flow logs and DNS logs it analyses (a few USD a month for a small account). Turn it off again with DeleteDetector.');
      warnings.push('Findings appear in the GuardDuty console of this region; nothing e-mails them unless you add an EventBridge rule.');
      return plan(`Turn on GuardDuty in ${region}`);
    }
    case 'create-budget': {
      const v = need(kind, inputs);
      const me = await ops.caller();
      checked.push(`sts:GetCallerIdentity: account ${me.account}, acting as ${me.arn}`);
      const names = await ops.budgets(me.account);
      checked.push(`budgets:DescribeBudgets: ${names.length ? names.join(', ') : 'no budget'}`);
      if (names.includes(BUDGET_NAME)) throw new KeysentryError(`a budget named ${BUDGET_NAME} already exists`);
      calls.push({
        api: 'budgets:CreateBudget',
        target: BUDGET_NAME,
        what: `create a monthly cost budget of USD ${v.limitUsd} that e-mails ${v.email} when actual spend passes 80 % and when the forecast passes 100 %`,
        run: () => ops.createBudget(me.account, BUDGET_NAME, Number(v.limitUsd), v.email),
      });
      warnings.push(`AWS sends the alerts to ${v.email} without confirming the address: check it is one somebody reads.`);
      warnings.push('Budget figures lag by up to a day; a CloudWatch billing alarm (us-east-1, after enabling billing alerts) is faster.');
      return plan(`Create a monthly budget with an e-mail alert to ${v.email}`);
    }
    case 'set-security-contact': {
      const v = need(kind, inputs);
      const now = await ops.securityContact();
      checked.push(`account:GetAlternateContact SECURITY: ${now ? `${now.email}${now.name ? ` (${now.name})` : ''}` : 'none set'}`);
      calls.push({
        api: 'account:PutAlternateContact',
        target: 'SECURITY',
        what: `${now ? `replace ${now.email} with` : 'set'} ${v.name} <${v.email}>, ${v.phone}, "${v.title}" as the security contact`,
        run: () => ops.putSecurityContact({ email: v.email, name: v.name, phone: v.phone, title: v.title }),
      });
      warnings.push('AWS sends security notifications and abuse notices to this contact (and to the root address).');
      return plan(`Set the security contact to ${v.email}`);
    }
    case 'deactivate-other-keys': {
      const me = await ops.caller();
      checked.push(`sts:GetCallerIdentity: acting as ${me.arn}${me.accessKeyId ? ` with ${me.accessKeyId}` : ''}`);
      const keys = await ops.accessKeys();
      const active = keys.filter((k) => k.status === 'Active');
      const others = active.filter((k) => k.id !== me.accessKeyId);
      checked.push(`iam:ListUsers, iam:ListAccessKeys: ${keys.length} access key(s), ${active.length} active${active.length > others.length ? ', one of them signing this plan (kept)' : ''}`);
      if (!others.length) throw new KeysentryError('no active access key other than the one signing: nothing to deactivate');
      for (const k of others)
        calls.push({ api: 'iam:UpdateAccessKey', target: k.id, what: `set ${k.id} of ${k.user} to Inactive (it can be reactivated)`, run: () => ops.deactivateKey(k.user, k.id) });
      warnings.push(`Everything that uses these ${others.length} key(s) (servers, CI, scripts, other people) stops working at once. Issue new keys only to what you can confirm.`);
      if (!me.accessKeyId?.startsWith('AKIA')) warnings.push('You sign with temporary credentials (SSO or a role): no IAM user key is kept for you.');
      warnings.push('The root user\'s access keys are not IAM keys: delete them from the root user\'s Security credentials page.');
      return plan(`Deactivate ${others.length} access key(s) except the one signing`);
    }
  }
}
