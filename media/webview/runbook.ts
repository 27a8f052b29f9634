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

window.addEventListener('message', (event: MessageEvent) => {
  if (isRunbookMessage(event.data)) render(event.data);
});
vscode.postMessage({ type: 'ready' });
