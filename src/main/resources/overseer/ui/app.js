// The shell: a hash router (every page has a permalink), the signed-in role, one page at a time.
import { whoAmI } from './api.js';
import { replace, el, errorBox } from './dom.js';

const pages = [
  { pattern: /^\/?$/, module: './runs.js', nav: 'nav-runs' },
  { pattern: /^\/jobs\/?$/, module: './jobs.js', nav: 'nav-jobs' },
  { pattern: /^\/jobs\/([^/]+)\/?$/, module: './job.js', nav: 'nav-jobs', names: ['job'] },
  { pattern: /^\/jobs\/([^/]+)\/(\d+)\/?$/, module: './execution.js', nav: 'nav-runs', names: ['job', 'n'] },
];

let cleanup = null;

async function show() {
  const main = document.getElementById('main');
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, queryText = ''] = hash.split('?');
  const query = new URLSearchParams(queryText);
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const page = pages.find((p) => p.pattern.test(path));
  for (const id of ['nav-runs', 'nav-jobs']) {
    document.getElementById(id).removeAttribute('aria-current');
  }
  if (!page) {
    replace(main, el('h1', {}, 'Not found'), el('p', {}, 'No page at ', el('code', {}, hash)));
    return;
  }
  document.getElementById(page.nav).setAttribute('aria-current', 'page');
  const match = path.match(page.pattern);
  const params = {};
  (page.names ?? []).forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1])));
  try {
    const me = await whoAmI();
    document.getElementById('who').textContent = me.tokens ? `${me.label ?? 'token'} (${me.role})` : 'no tokens file';
    const module = await import(page.module);
    cleanup = (await module.render(main, params, query, me)) ?? null;
    main.focus({ preventScroll: true });
  } catch (error) {
    replace(main, errorBox(error));
  }
}

window.addEventListener('hashchange', show);
show();
