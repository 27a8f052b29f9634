// Runs inside the runbook webview (browser). Builds the page with textContent only: no HTML
// strings from data, no inline handlers. Checkbox state goes back to the extension and into
// the webview state so it survives a reload.
interface Step { id: string; what: string; why: string }
interface Runbook { title: string; summary: string; phases: Array<{ name: string; steps: Step[] }> }
interface RunbookMessage { type: 'runbook'; kind: string; runbook: Runbook; done: string[] }
interface VsCodeApi { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

function isRunbookMessage(m: unknown): m is RunbookMessage {
  const o = m as Partial<RunbookMessage> | null;
  return !!o && o.type === 'runbook' && typeof o.kind === 'string' && !!o.runbook && Array.isArray(o.runbook.phases) && Array.isArray(o.done);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Renders `code` spans written as `...` in the data, still as text nodes. */
function rich(text: string): HTMLElement {
  const p = el('p');
  text.split(/(`[^`]+`)/).forEach((part) => {
    if (part.startsWith('`') && part.endsWith('`') && part.length > 1) p.appendChild(el('code', part.slice(1, -1)));
    else if (part) p.appendChild(document.createTextNode(part));
  });
  return p;
}

function render(msg: RunbookMessage): void {
  vscode.setState({ kind: msg.kind });
  const root = document.getElementById('root') as HTMLElement;
  root.replaceChildren();
  root.appendChild(el('h1', msg.runbook.title));
  root.appendChild(el('p', msg.runbook.summary, 'summary'));
  const done = new Set(msg.done);
  const total = msg.runbook.phases.reduce((n, p) => n + p.steps.length, 0);
  const status = el('p', '', 'progress');
  const updateStatus = (): void => {
    status.textContent = `${done.size} of ${total} steps done`;
  };
  updateStatus();
  root.appendChild(status);
  msg.runbook.phases.forEach((phase, i) => {
    const section = el('section');
    section.appendChild(el('h2', `${i + 1}. ${phase.name}`));
    for (const step of phase.steps) {
      const item = el('div', undefined, 'step');
      const id = `step-${phase.name}-${step.id}`.replace(/[^A-Za-z0-9-]/g, '-');
      const box = el('input');
      box.type = 'checkbox';
      box.id = id;
      box.checked = done.has(`${phase.name}/${step.id}`);
      box.addEventListener('change', () => {
        const key = `${phase.name}/${step.id}`;
        if (box.checked) done.add(key);
        else done.delete(key);
        updateStatus();
        vscode.postMessage({ type: 'toggle', step: key, done: box.checked });
      });
      const label = el('label');
      label.htmlFor = id;
      label.appendChild(rich(step.what));
      item.append(box, label, el('p', `Why: ${step.why}`, 'why'));
      section.appendChild(item);
    }
    root.appendChild(section);
  });
}

// ----------------------------------------------------------------------------- incidents

interface IncidentStep {
  key: string;
  title: string;
  what: string;
  why: string;
  console?: string;
  cli?: string;
  /** Why a value was left as a placeholder in `cli` (not safe to paste into every shell). */
  cliWithheld?: string[];
  actions: Array<{ action: string; resource: string; label: string }>;
  done: boolean;
  doneBy?: string;
}
interface IncidentMessage {
  type: 'incident';
  id: string;
  title: string;
  runbookTitle: string;
  summary: string;
  runbookSummary: string;
  severity: string;
  status: string;
  statuses: string[];
  facts: Array<[string, string]>;
  resources: string[];
  phases: Array<{ name: string; steps: IncidentStep[] }>;
  timeline: Array<{ at: string; actor: string; kind: string; text: string; calls: string[] }>;
  busy?: string;
}

function isIncidentMessage(m: unknown): m is IncidentMessage {
  const o = m as Partial<IncidentMessage> | null;
  return !!o && o.type === 'incident' && typeof o.id === 'string' && Array.isArray(o.phases) && Array.isArray(o.timeline) && Array.isArray(o.facts);
}

function button(text: string, onClick: () => void, cls = ''): HTMLButtonElement {
  const b = el('button', text, cls);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

function renderIncident(msg: IncidentMessage): void {
  vscode.setState({ id: msg.id });
  const root = document.getElementById('root') as HTMLElement;
  const focusedKey = (document.activeElement as HTMLElement | null)?.dataset?.key;
  root.replaceChildren();
  const header = el('header', undefined, 'incident-header');
  header.appendChild(el('p', msg.runbookTitle, 'kind'));
  header.appendChild(el('h1', msg.title));
  const meta = el('div', undefined, 'meta');
  meta.appendChild(el('span', msg.severity.toUpperCase(), `badge severity-${msg.severity}`));
  const statusLabel = el('label', 'Status ');
  const select = el('select');
  select.dataset.key = 'status';
  for (const s of msg.statuses) {
    const o = el('option', s);
    o.value = s;
    o.selected = s === msg.status;
    select.appendChild(o);
  }
  select.addEventListener('change', () => vscode.postMessage({ type: 'status', status: select.value }));
  statusLabel.appendChild(select);
  meta.appendChild(statusLabel);
  const report = button('Export Report', () => vscode.postMessage({ type: 'report' }), 'secondary');
  report.dataset.key = 'report';
  meta.appendChild(report);
  header.appendChild(meta);
  root.appendChild(header);
  root.appendChild(el('p', msg.summary, 'summary'));
  if (msg.runbookSummary) root.appendChild(el('p', msg.runbookSummary, 'why'));

  if (msg.facts.length || msg.resources.length) {
    const details = el('section', undefined, 'details');
    details.appendChild(el('h2', 'Details'));
    const dl = el('dl');
    for (const [k, v] of msg.facts) dl.append(el('dt', k), el('dd', v));
    if (msg.resources.length) {
      dl.appendChild(el('dt', 'Resources'));
      const dd = el('dd');
      const ul = el('ul');
      for (const r of msg.resources) ul.appendChild(el('li', r));
      dd.appendChild(ul);
      dl.appendChild(dd);
    }
    details.appendChild(dl);
    root.appendChild(details);
  }

  const total = msg.phases.reduce((n, p) => n + p.steps.length, 0);
  const done = msg.phases.reduce((n, p) => n + p.steps.filter((s) => s.done).length, 0);
  root.appendChild(el('p', `${done} of ${total} steps done`, 'progress'));
  msg.phases.forEach((phase, i) => {
    const section = el('section', undefined, 'phase');
    section.appendChild(el('h2', `${i + 1}. ${phase.name}`));
    for (const step of phase.steps) {
      const item = el('div', undefined, step.done ? 'step done' : 'step');
      const id = `step-${step.key}`.replace(/[^A-Za-z0-9-]/g, '-');
      const box = el('input');
      box.type = 'checkbox';
      box.id = id;
      box.checked = step.done;
      box.dataset.key = step.key;
      box.addEventListener('change', () => vscode.postMessage({ type: 'step', key: step.key, done: box.checked }));
      const label = el('label');
      label.htmlFor = id;
      label.appendChild(el('strong', step.title));
      item.append(box, label);
      if (step.title !== step.what) item.appendChild(rich(step.what));
      item.appendChild(el('p', `Why: ${step.why}`, 'why'));
      if (step.console) item.appendChild(el('p', `Console: ${step.console}`, 'where'));
      if (step.cli) {
        const row = el('div', undefined, 'cli');
        row.appendChild(el('code', step.cli));
        const copy = button('Copy', () => vscode.postMessage({ type: 'copy', text: step.cli }), 'secondary small');
        copy.setAttribute('aria-label', `Copy the command of "${step.title}"`);
        row.appendChild(copy);
        item.appendChild(row);
        for (const note of step.cliWithheld ?? []) item.appendChild(el('p', note, 'where withheld'));
      }
      if (step.actions.length) {
        const row = el('div', undefined, 'actions');
        for (const a of step.actions) {
          const b = button(msg.busy === a.resource ? `${a.label}: running…` : `${a.label}…`, () => vscode.postMessage({ type: 'action', step: step.key, action: a.action, resource: a.resource }));
          b.dataset.key = `${step.key}/${a.resource}/${a.action}`;
          b.disabled = !!msg.busy;
          b.title = 'Shows the exact AWS calls first; runs only after you confirm';
          row.appendChild(b);
        }
        item.appendChild(row);
      }
      if (step.doneBy) item.appendChild(el('p', `Done ${step.doneBy}`, 'done-by'));
      section.appendChild(item);
    }
    root.appendChild(section);
  });

  const tl = el('section', undefined, 'timeline');
  tl.appendChild(el('h2', 'Timeline'));
  const ol = el('ol');
  for (const t of msg.timeline) {
    const li = el('li', undefined, `entry ${t.kind}`);
    li.appendChild(el('span', `${t.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} · ${t.actor}`, 'when'));
    li.appendChild(el('p', t.text));
    if (t.calls.length) {
      const ul = el('ul', undefined, 'calls');
      for (const c of t.calls) ul.appendChild(el('li', c));
      li.appendChild(ul);
    }
    ol.appendChild(li);
  }
  tl.appendChild(ol);
  root.appendChild(tl);
  if (focusedKey) (root.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`) as HTMLElement | null)?.focus();
}

window.addEventListener('message', (event: MessageEvent) => {
  if (isRunbookMessage(event.data)) render(event.data);
  else if (isIncidentMessage(event.data)) renderIncident(event.data);
});
vscode.postMessage({ type: 'ready' });
