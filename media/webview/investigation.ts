// The Investigation section of the incident webview (built by src/vscode/investigationSection.ts).
// textContent only: user names, user agents, key pair names come from the attacker.

export interface InvestigationView {
  subject: string;
  running: boolean;
  investigated?: {
    at: string;
    exposure: string;
    window: string;
    counts: string;
    verdict: string[];
    notes: string[];
    timeline: Array<{ time: string; name: string; region: string; ip: string; failed: string; key: string }>;
    more: number;
    resources: Array<{ type: string; id: string; region: string; when: string; owner: string; note?: string; removal?: { kind: string; resource: string; label: string; done: boolean } }>;
  };
}

const str = (v: unknown): v is string => typeof v === 'string';

export function isInvestigationView(v: unknown): v is InvestigationView {
  const o = v as Partial<InvestigationView> | null;
  if (!o || !str(o.subject) || typeof o.running !== 'boolean') return false;
  const i = o.investigated;
  return !i || (Array.isArray(i.verdict) && Array.isArray(i.notes) && Array.isArray(i.timeline) && Array.isArray(i.resources));
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function button(text: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = el('button', text, cls);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

export function renderInvestigation(v: InvestigationView, post: (m: unknown) => void): HTMLElement {
  const section = el('section', undefined, 'investigation');
  section.id = 'investigation';
  section.appendChild(el('h2', 'Investigation'));
  const head = el('div', undefined, 'actions');
  const go = button(v.running ? 'Working…' : v.investigated ? `Investigate ${v.subject} again` : `Investigate ${v.subject} in CloudTrail`, () => post({ type: 'investigate' }), v.investigated ? 'secondary' : '');
  go.dataset.key = 'investigate';
  go.disabled = v.running;
  go.title = 'Reads CloudTrail event history (LookupEvents) in every enabled region, signed with your identity. Changes nothing.';
  head.appendChild(go);
  section.appendChild(head);
  const inv = v.investigated;
  if (!inv) {
    section.appendChild(el('p', 'What did the key do, and what did it leave behind? Not investigated yet.', 'why'));
    return section;
  }
  const dl = el('dl');
  dl.append(el('dt', 'Exposure from'), el('dd', inv.exposure), el('dt', 'Window'), el('dd', inv.window), el('dt', 'Calls'), el('dd', inv.counts), el('dt', 'Investigated'), el('dd', inv.at));
  section.appendChild(dl);
  const verdict = el('ul', undefined, 'verdict');
  for (const line of inv.verdict) verdict.appendChild(el('li', line));
  section.appendChild(verdict);
  for (const n of inv.notes) section.appendChild(el('p', n, 'note'));

  section.appendChild(el('h3', `Left behind (${inv.resources.length})`));
  if (!inv.resources.length) section.appendChild(el('p', 'Nothing created or changed.', 'why'));
  const table = el('table', undefined, 'resources');
  for (const r of inv.resources) {
    const tr = el('tr', undefined, r.removal ? 'attacker' : 'yours');
    tr.append(el('td', r.type), el('td', r.id, 'id'), el('td', r.region), el('td', r.when), el('td', r.owner, 'owner'));
    const td = el('td');
    if (r.removal) {
      const b = button(r.removal.done ? `${r.removal.label}: done` : v.running ? `${r.removal.label}…` : `${r.removal.label}…`, () => post({ type: 'remove', kind: r.removal?.kind, resource: r.removal?.resource }), 'small');
      b.dataset.key = `remove/${r.removal.kind}/${r.removal.resource}`;
      b.disabled = v.running || r.removal.done;
      b.title = 'Shows the exact AWS calls first; runs only after you confirm';
      td.appendChild(b);
    } else if (r.note) td.appendChild(el('span', r.note, 'why'));
    tr.appendChild(td);
    table.appendChild(tr);
  }
  section.appendChild(table);

  section.appendChild(el('h3', `Calls that were not yours (${inv.timeline.length + inv.more})`));
  const ol = el('ol', undefined, 'trail');
  for (const e of inv.timeline) {
    const li = el('li', undefined, e.failed ? 'failed' : '');
    li.appendChild(el('span', e.time.replace('T', ' '), 'when'));
    li.appendChild(el('code', e.name));
    li.appendChild(document.createTextNode(` ${e.region} from ${e.ip}${e.failed ? `, failed: ${e.failed}` : ''}${e.key ? `, with key ${e.key}` : ''}`));
    ol.appendChild(li);
  }
  if (inv.more) ol.appendChild(el('li', `… ${inv.more} more (keysentry investigate --format json lists them all)`, 'why'));
  section.appendChild(ol);
  return section;
}
