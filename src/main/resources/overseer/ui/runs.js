// The start page: the newest executions of all jobs, filterable by state.
import { request } from './api.js';
import { el, replace, state, age, executionLink, link, errorBox } from './dom.js';

export const STATES = ['', 'queued', 'running', 'stopped', 'succeeded', 'failed', 'timed-out', 'killed',
  'cancelled', 'skipped', 'lost'];

export function duration(e) {
  if (!e.started_at) return '';
  const end = e.finished_at ? new Date(e.finished_at) : new Date();
  const ms = end - new Date(e.started_at);
  return ms < 1000 ? `${ms} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`;
}

export function stateFilter(current, onChange) {
  return el('label', {}, 'State ',
    el('select', { id: 'state-filter', onchange: (event) => onChange(event.target.value) },
      STATES.map((s) => el('option', { value: s, selected: s === current }, s || 'any'))));
}

export function executionRows(list, withJob) {
  return list.map((e) => el('tr', {},
    el('td', {}, withJob ? executionLink(e.job, e.execution) : link(`#/jobs/${encodeURIComponent(e.job)}/${e.execution}`, `#${e.execution}`)),
    el('td', {}, state(e)),
    el('td', { class: 'optional' }, e.trigger, e.triggered_by ? ` (${e.triggered_by})` : ''),
    el('td', {}, age(e.created_at)),
    el('td', { class: 'optional' }, duration(e))));
}

export function executionTable(rows) {
  return el('table', {},
    el('thead', {}, el('tr', {}, el('th', {}, 'Execution'), el('th', {}, 'State'), el('th', { class: 'optional' }, 'Trigger'),
      el('th', {}, 'Created'), el('th', { class: 'optional' }, 'Duration'))),
    el('tbody', {}, rows));
}

export async function render(main, params, query) {
  const wanted = query.get('state') ?? '';
  const body = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  replace(main,
    el('h1', {}, 'Runs'),
    el('div', { class: 'toolbar' }, stateFilter(wanted, (s) => (location.hash = s ? `#/?state=${encodeURIComponent(s)}` : '#/'))),
    body);
  let extra = [];
  let next = null;
  const base = `/executions?limit=50${wanted ? '&state=' + encodeURIComponent(wanted) : ''}`;

  async function load() {
    try {
      const response = await request('GET', base);
      next = nextLink(response.headers);
      const rows = executionRows(response.json.concat(extra), true);
      replace(body,
        response.json.length === 0 ? el('p', { class: 'muted' }, 'No executions yet.') : executionTable(rows),
        next ? el('button', { onclick: more }, 'Older') : null);
    } catch (error) {
      replace(body, errorBox(error));
    }
  }

  async function more() {
    const response = await request('GET', next);
    extra = extra.concat(response.json);
    next = nextLink(response.headers);
    await load();
  }

  await load();
  const timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}

export function nextLink(headers) {
  const match = /<([^>]+)>;\s*rel="next"/.exec(headers.get('Link') ?? '');
  return match ? match[1] : null;
}
