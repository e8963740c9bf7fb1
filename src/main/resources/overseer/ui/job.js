// One job: its definition, its executions, and a trigger form built from its vars.
import { request, get, allows, ApiError } from './api.js';
import { el, replace, time, errorBox } from './dom.js';
import { executionRows, executionTable, stateFilter } from './runs.js';

const JSON_TYPES = ['seq', 'map', 'pairs', 'omap', 'set'];

/** The input for one var, chosen by its type. */
function input(v) {
  const id = `var-${v.name}`;
  const common = { id, name: v.name, 'aria-required': v.required ? 'true' : null, 'aria-describedby': `${id}-error` };
  if (v.type === 'bool') {
    return el('input', { ...common, type: 'checkbox', checked: v.default === true });
  }
  if (v.type === 'enum') {
    return el('select', common,
      v.required && v.default === undefined ? el('option', { value: '' }, '') : null,
      (v.values ?? []).map((value) => el('option', { value: String(value), selected: value === v.default }, String(value))));
  }
  if (JSON_TYPES.includes(v.type)) {
    return el('textarea', { ...common, placeholder: 'JSON' },
      v.default !== undefined ? JSON.stringify(v.default) : '');
  }
  const type = v.secret ? 'password'
    : v.type === 'int' || v.type === 'float' ? 'number'
    : v.type === 'timestamp' ? 'datetime-local' : 'text';
  const attrs = { ...common, type, autocomplete: 'off' };
  if (v.type === 'int') attrs.step = '1';
  if (v.type === 'float') attrs.step = 'any';
  if (v.default !== undefined && !v.secret && v.type !== 'timestamp') attrs.value = String(v.default);
  if (v.secret && v.default !== undefined) attrs.placeholder = 'default kept';
  return el('input', attrs);
}

/** The value to send for one var, or undefined to leave it to the server (default, required). */
function value(v, field) {
  if (v.type === 'bool') return field.checked;
  const text = field.value;
  if (text === '') return undefined;
  if (v.type === 'int') return Number.isInteger(Number(text)) ? Number(text) : text;
  if (v.type === 'float') return Number.isFinite(Number(text)) ? Number(text) : text;
  if (v.type === 'timestamp') return new Date(text).toISOString();
  if (JSON_TYPES.includes(v.type)) {
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError(400, { detail: `${v.name}: not valid JSON`, errors: [{ field: v.name, message: 'not valid JSON' }] });
    }
  }
  return text;
}

function triggerForm(job) {
  const vars = job.vars ?? [];
  const formError = el('p', { class: 'error', role: 'alert', id: 'form-error' });
  const fields = vars.map((v) => el('div', { class: 'field' },
    el('label', { for: `var-${v.name}`, class: v.required ? 'required' : null }, v.name, el('span', { class: 'muted' }, ` (${v.type}${v.secret ? ', secret' : ''})`)),
    input(v),
    el('span', { class: 'field-error', id: `var-${v.name}-error`, role: 'alert' })));
  const form = el('form', { class: 'trigger', id: 'trigger-form', novalidate: true },
    fields, formError, el('div', {}, el('button', { type: 'submit', class: 'primary', id: 'trigger' }, 'Run')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelectorAll('.field-error').forEach((e) => (e.textContent = ''));
    formError.textContent = '';
    try {
      const body = {};
      for (const v of vars) {
        const given = value(v, form.elements.namedItem(v.name));
        if (given !== undefined) body[v.name] = given;
      }
      const created = await request('POST', `/jobs/${encodeURIComponent(job.name)}`, body);
      location.hash = `#/jobs/${encodeURIComponent(job.name)}/${created.json.execution}`;
    } catch (error) {
      const errors = error.problem?.errors ?? [];
      let placed = false;
      for (const e of errors) {
        const slot = document.getElementById(`var-${e.field}-error`);
        if (slot) {
          slot.textContent = e.message;
          placed = true;
        }
      }
      if (!placed) formError.textContent = error.message;
    }
  });
  return form;
}

function definition(job) {
  return el('section', { class: 'panel' },
    el('dl', { class: 'facts' },
      el('dt', {}, 'Description'), el('dd', {}, job.description ?? ''),
      el('dt', {}, 'File'), el('dd', {}, el('code', {}, job.file ?? '')),
      el('dt', {}, 'Commit'), el('dd', {}, el('code', {}, (job.commit ?? '').slice(0, 12))),
      job.command !== undefined ? [el('dt', {}, 'Command'), el('dd', {}, el('pre', { id: 'command' }, job.command))] : null,
      job.script ? [el('dt', {}, 'Script'), el('dd', {}, el('code', {}, [job.script, ...(job.script_args ?? [])].join(' ')))] : null,
      el('dt', {}, 'Vars'), el('dd', {}, (job.vars ?? []).length
        ? el('ul', {}, job.vars.map((v) => el('li', {}, el('code', {}, v.name), ` ${v.type}`, v.required ? ', required' : '',
          v.secret ? ', secret' : '', v.default !== undefined ? `, default ${JSON.stringify(v.default)}` : '')))
        : 'none'),
      el('dt', {}, 'Schedules'), el('dd', {}, (job.schedules ?? []).length
        ? el('ul', {}, job.schedules.map((s) => el('li', {}, el('code', {}, s.frequency), s.time ? ` at ${s.time}` : '',
          ` (${s.timezone}) — next `, time(s.next_run))))
        : 'none'),
      el('dt', {}, 'Hooks'), el('dd', {}, (job.hooks ?? []).length
        ? el('ul', {}, job.hooks.map((h) => el('li', {}, el('code', {}, h.url), ` ${(h.events ?? []).join(', ')}`, h.signed ? ' (signed)' : '')))
        : 'none'),
      el('dt', {}, 'Timeout'), el('dd', {}, job.timeout ? `${job.timeout} s` : 'none'),
      el('dt', {}, 'Concurrency'), el('dd', {}, `${job.concurrency ?? 'unlimited'}, overlap ${job.overlap}`)));
}

export async function render(main, params, query, me) {
  const name = params.job;
  const wanted = query.get('state') ?? '';
  const job = await get(`/jobs/${encodeURIComponent(name)}`);
  const runs = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const enabled = el('span', { id: 'enabled' }, job.enabled ? 'enabled' : 'disabled');
  const toggle = allows(me.role, 'admin')
    ? el('button', { id: 'toggle', onclick: async () => {
      await request(job.enabled ? 'DELETE' : 'PUT', `/jobs/${encodeURIComponent(name)}`);
      job.enabled = !job.enabled;
      enabled.textContent = job.enabled ? 'enabled' : 'disabled';
      toggle.textContent = job.enabled ? 'Disable' : 'Enable';
    } }, job.enabled ? 'Disable' : 'Enable')
    : null;
  replace(main,
    el('h1', {}, name, ' ', el('span', { class: 'muted' }, '— '), enabled, ' ', toggle),
    definition(job),
    allows(me.role, 'trigger') ? [el('h2', {}, 'Run'), triggerForm(job)] : null,
    el('h2', {}, 'Executions'),
    el('div', { class: 'toolbar' }, stateFilter(wanted, (s) => (location.hash = `#/jobs/${encodeURIComponent(name)}${s ? '?state=' + encodeURIComponent(s) : ''}`))),
    runs);
  let before = null;

  async function load() {
    try {
      const path = `/jobs/${encodeURIComponent(name)}/executions?limit=20${wanted ? '&state=' + encodeURIComponent(wanted) : ''}${before ? '&before=' + before : ''}`;
      const response = await request('GET', path);
      const list = response.json;
      replace(runs,
        list.length ? executionTable(executionRows(list, false)) : el('p', { class: 'muted' }, 'No executions.'),
        el('div', { class: 'actions' },
          before ? el('button', { onclick: () => { before = null; load(); } }, 'Newest') : null,
          list.length === 20 ? el('button', { onclick: () => { before = list[list.length - 1].execution; load(); } }, 'Older') : null));
    } catch (error) {
      replace(runs, errorBox(error));
    }
  }
  await load();
  const timer = setInterval(() => { if (!before) load(); }, 5000);
  return () => clearInterval(timer);
}
