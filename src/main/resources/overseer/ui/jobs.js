// Every job, with the configuration's state on top (and a rejected commit's problems).
import { request, get } from './api.js';
import { el, replace, state, age, time, link, problemList, errorBox } from './dom.js';

function configPanel(config) {
  return el('section', { class: 'panel', id: 'config' },
    el('dl', { class: 'facts' },
      el('dt', {}, 'Active commit'), el('dd', {}, el('code', {}, (config.commit ?? '—').slice(0, 12))),
      el('dt', {}, 'Last sync'), el('dd', {}, time(config.last_sync), ' — ', config.result ?? ''),
      config.error ? [el('dt', {}, 'Error'), el('dd', { class: 'error' }, config.error)] : null),
    config.rejected_commit
      ? el('div', { id: 'rejected' },
        el('h2', {}, 'Commit ', el('code', {}, config.rejected_commit.slice(0, 12)), ' was rejected'),
        problemList(config.problems ?? []))
      : null,
    (config.warnings ?? []).length ? el('div', {}, el('h2', {}, 'Warnings'), problemList(config.warnings)) : null);
}

function nextRun(job) {
  const times = (job.schedules ?? []).map((s) => s.next_run).filter(Boolean).sort();
  return times.length ? time(times[0]) : el('span', { class: 'muted' }, '—');
}

export async function render(main) {
  const filter = el('input', { type: 'search', id: 'job-filter', placeholder: 'Filter jobs', 'aria-label': 'Filter jobs' });
  const top = el('div', {});
  const body = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  replace(main, el('h1', {}, 'Jobs'), top, el('div', { class: 'toolbar' }, filter), body);
  let jobs = [];

  function draw() {
    const words = filter.value.toLowerCase();
    const shown = jobs.filter((j) => !words || j.name.toLowerCase().includes(words)
      || (j.description ?? '').toLowerCase().includes(words));
    replace(body, el('table', { id: 'jobs' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Job'), el('th', { class: 'optional' }, 'Description'), el('th', {}, 'Enabled'),
        el('th', { class: 'optional' }, 'Next run'), el('th', {}, 'Last execution'))),
      el('tbody', {}, shown.map((j) => el('tr', { 'data-job': j.name },
        el('td', {}, link(`#/jobs/${encodeURIComponent(j.name)}`, j.name)),
        el('td', { class: 'optional' }, j.description ?? ''),
        el('td', {}, j.enabled ? 'yes' : 'no'),
        el('td', { class: 'optional' }, nextRun(j)),
        el('td', {}, j.last_execution
          ? [link(`#/jobs/${encodeURIComponent(j.name)}/${j.last_execution.execution}`, state(j.last_execution)), ' ',
            age(j.last_execution.created_at)]
          : el('span', { class: 'muted' }, 'never')))))));
  }

  async function load() {
    try {
      const [config, list] = await Promise.all([get('/config'), request('GET', '/jobs')]);
      replace(top, configPanel(config));
      jobs = list.json;
      draw();
    } catch (error) {
      replace(body, errorBox(error));
    }
  }

  filter.addEventListener('input', draw);
  await load();
  const timer = setInterval(load, 10000);
  return () => clearInterval(timer);
}
