// Building the page. Everything from the server (job files, params, output, causes) goes in as
// text nodes or attribute values, never as HTML.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = String(value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function replace(parent, ...children) {
  parent.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** A time in the browser's zone, with UTC on hover. */
export function time(iso) {
  if (!iso) return el('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  return el('time', { datetime: iso, title: d.toISOString().replace('.000Z', 'Z') + ' (UTC)' }, d.toLocaleString());
}

/** How long ago, for lists. */
export function age(iso) {
  if (!iso) return el('span', { class: 'muted' }, 'never');
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  const text = seconds < 60 ? `${Math.round(seconds)} s ago`
    : seconds < 3600 ? `${Math.round(seconds / 60)} min ago`
    : seconds < 86400 ? `${Math.round(seconds / 3600)} h ago`
    : `${Math.round(seconds / 86400)} d ago`;
  const d = new Date(iso);
  return el('time', { datetime: iso, title: d.toISOString() + ' (UTC) — ' + d.toLocaleString() }, text);
}

const KNOWN = ['complete', 'fail', 'time-out', 'lost', 'kill', 'terminate', 'queued', 'starting', 'start',
  'running', 'stop', 'continue'];

export function status(name) {
  return el('span', { class: 'status ' + (KNOWN.includes(name) ? name : 'other') }, name ?? '?');
}

// The latest events each state already says; any other (a custom one, a signal on its way) is shown beside it.
const SAID_BY = {
  queued: ['queued'], running: ['start', 'continue'], stopped: ['stop'], succeeded: ['complete'], failed: ['fail'],
  'timed-out': ['time-out'], killed: ['fail'], cancelled: ['fail'], skipped: ['skipped'], lost: ['lost'],
};

/** What became of an execution (its stored state), with a latest event it does not say beside it. */
export function state(e) {
  const name = e.state ?? '?';
  const said = SAID_BY[name] ?? [];
  return el('span', {},
    el('span', { class: 'state ' + name.replace(/[^a-z-]/g, '') }, name),
    e.status && !said.includes(e.status) ? [' ', el('span', { class: 'latest-event' }, e.status)] : '');
}

export function link(hash, ...children) {
  return el('a', { href: hash }, ...children);
}

export function executionLink(job, n) {
  return link(`#/jobs/${encodeURIComponent(job)}/${n}`, `${job} #${n}`);
}

export function problemList(problems) {
  return el('ul', { class: 'problems' }, problems.map((p) => el('li', {}, p.text ?? `${p.file}:${p.line}:${p.column}: ${p.message}`)));
}

export function errorBox(error) {
  return el('p', { class: 'error', role: 'alert' }, error.message ?? String(error));
}
