// One execution: what ran, its events, and its output, followed live while it runs.
import { request, get, stream, allows } from './api.js';
import { el, replace, status, state, time, link, errorBox } from './dom.js';
import { duration } from './runs.js';

const TAIL = 256 * 1024;
const STREAMS = ['output', 'stdout', 'stderr'];

function facts(e) {
  return el('dl', { class: 'facts', id: 'facts' },
    el('dt', {}, 'State'), el('dd', {}, state(e), e.exit_code !== null && e.exit_code !== undefined ? ` exit code ${e.exit_code}` : ''),
    el('dt', {}, 'Latest event'), el('dd', {}, status(e.status)),
    el('dt', {}, 'Trigger'), el('dd', {}, e.trigger, e.triggered_by ? ` by ${e.triggered_by}` : '', e.retry_of ? [' (retry of ', link(`#/jobs/${encodeURIComponent(e.job)}/${e.retry_of}`, `#${e.retry_of}`), ')'] : ''),
    el('dt', {}, 'Commit'), el('dd', {}, el('code', {}, (e.commit ?? '').slice(0, 12))),
    el('dt', {}, 'Created'), el('dd', {}, time(e.created_at)),
    el('dt', {}, 'Started'), el('dd', {}, time(e.started_at)),
    el('dt', {}, 'Finished'), el('dd', {}, e.finished_at ? [time(e.finished_at), e.started_at ? ` (ran ${duration(e)})` : '']
      : e.started_at ? `running for ${duration(e)}` : el('span', { class: 'muted' }, 'not yet')),
    el('dt', {}, 'Params'), el('dd', {}, el('pre', { id: 'params' }, JSON.stringify(e.params ?? {}, null, 2))),
    el('dt', {}, 'Command'), el('dd', {}, el('pre', { id: 'rendered' }, e.rendered ?? '')));
}

function timeline(e) {
  return el('ol', { class: 'timeline', id: 'events' }, (e.events ?? []).map((ev) => el('li', {},
    time(ev.at), ' ', status(ev.name), ev.cause ? [' ', el('span', { class: 'cause' }, ev.cause)] : '',
    el('span', { class: 'muted' }, ` — ${ev.source ?? ''}`),
    (ev.deliveries ?? []).length
      ? el('ul', {}, ev.deliveries.map((d) => el('li', { class: 'muted' }, `webhook ${d.url}: ${d.state}`,
        d.attempts ? `, ${d.attempts} attempt(s)` : '', d.last_error ? `, ${d.last_error}` : '')))
      : null)));
}

function signals(e, onDone) {
  if (e.finished_at) return null;
  return el('div', { class: 'actions', id: 'signals' }, ['stop', 'continue', 'terminate', 'kill'].map((signal) =>
    el('button', { class: signal === 'kill' || signal === 'terminate' ? 'danger' : null, id: `signal-${signal}`,
      onclick: async () => {
        await request('PUT', `/jobs/${encodeURIComponent(e.job)}/${e.execution}`, { event: signal });
        onDone();
      } }, signal)));
}

/** The output panel: tabs, the tail first, earlier parts on demand, new bytes as they come. */
function outputPanel(e, query, onEnd) {
  let current = STREAMS.includes(query.get('stream')) ? query.get('stream') : 'output';
  const wantedLine = Number(query.get('line') ?? 0);
  const pre = el('pre', { class: 'output', id: 'output', tabindex: '0', 'aria-live': 'off' });
  const note = el('p', { class: 'muted', id: 'output-note' });
  const tabs = el('div', { class: 'tabs', role: 'tablist' }, STREAMS.map((s) =>
    el('button', { role: 'tab', id: `tab-${s}`, 'aria-selected': String(s === current), onclick: () => switchTo(s) }, s)));
  let abort = null;
  let start = 0; // offset of the first byte shown
  let lineNumber = 0;
  let partial = '';

  const path = () => `/jobs/${encodeURIComponent(e.job)}/${e.execution}/${current}`;
  const permalink = (n) => `#/jobs/${encodeURIComponent(e.job)}/${e.execution}?stream=${current}&line=${n}`;

  function appendText(text, atTop = false) {
    const lines = (partial + text).split('\n');
    partial = atTop ? '' : lines.pop();
    const nodes = lines.map((line) => {
      lineNumber += 1;
      const numbered = start === 0;
      return el('span', { class: 'line', id: numbered ? `L${lineNumber}` : null },
        numbered ? el('a', { href: permalink(lineNumber), 'aria-label': `line ${lineNumber}` }, String(lineNumber)) : null,
        line + '\n');
    });
    const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(...nodes);
    if (follow) pre.scrollTop = pre.scrollHeight;
  }

  async function load() {
    if (abort) abort.abort();
    abort = new AbortController();
    replace(pre);
    partial = '';
    lineNumber = 0;
    const head = await fetchSize();
    start = head > TAIL ? head - TAIL : 0;
    replace(note, start > 0
      ? [`Showing the last ${Math.round(TAIL / 1024)} KiB of ${Math.round(head / 1024)} KiB. `, el('button', { id: 'earlier', onclick: earlier }, 'Load earlier')]
      : []);
    try {
      const response = await stream(`${path()}?follow=1`, start > 0 ? { Range: `bytes=${start}-` } : {}, abort.signal);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        appendText(value);
      }
      if (partial) {
        appendText('\n');
      }
      if (wantedLine) document.getElementById(`L${wantedLine}`)?.scrollIntoView({ block: 'center' });
      onEnd();
    } catch (error) {
      if (error.name !== 'AbortError') replace(note, errorBox(error));
    }
  }

  async function fetchSize() {
    const response = await stream(path(), {}, undefined, 'HEAD').catch(() => null);
    return response && response.ok ? Number(response.headers.get('Content-Length') ?? 0) : 0;
  }

  async function earlier() {
    const from = Math.max(0, start - TAIL);
    const response = await stream(path(), { Range: `bytes=${from}-${start - 1}` });
    const text = await response.text();
    const chunk = el('span', {}, text);
    pre.prepend(chunk);
    start = from;
    if (start === 0) replace(note);
  }

  function switchTo(s) {
    current = s;
    tabs.querySelectorAll('button').forEach((b) => b.setAttribute('aria-selected', String(b.id === `tab-${s}`)));
    load();
  }

  load();
  return { node: el('section', {}, tabs, note, pre), stop: () => abort?.abort() };
}

export async function render(main, params, query, me) {
  const base = `/jobs/${encodeURIComponent(params.job)}/${params.n}`;
  let e = await get(base);
  const head = el('div', {});
  const events = el('div', {});
  let timer = null;

  function draw() {
    replace(head,
      el('h1', {}, link(`#/jobs/${encodeURIComponent(e.job)}`, e.job), ` #${e.execution} `, state(e)),
      allows(me.role, 'trigger')
        ? el('div', { class: 'actions' }, signals(e, refresh),
          e.finished_at ? el('button', { id: 'repeat', onclick: repeat }, 'Repeat') : null)
        : null,
      facts(e));
    replace(events, timeline(e));
  }

  async function refresh() {
    try {
      e = await get(base);
      draw();
      if (e.finished_at && timer) {
        clearInterval(timer);
        timer = null;
      }
    } catch (error) {
      replace(events, errorBox(error));
    }
  }

  async function repeat() {
    try {
      const created = await request('POST', base, {});
      location.hash = `#/jobs/${encodeURIComponent(e.job)}/${created.json.execution}`;
    } catch (error) {
      replace(events, errorBox(error));
    }
  }

  draw();
  const output = outputPanel(e, query, refresh);
  replace(main, head, el('h2', {}, 'Output'), output.node, el('h2', {}, 'Events'), events);
  // While it runs, the facts and events are asked for again now and then; the output streams.
  if (!e.finished_at) timer = setInterval(refresh, 3000);
  return () => {
    output.stop();
    if (timer) clearInterval(timer);
  };
}
