// Talking to the server: the token from session storage as a bearer token; a 401 asks for one.

const KEY = 'overseer-token';
let me = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem ?? {};
  }
}

function headers(extra = {}) {
  const token = sessionStorage.getItem(KEY);
  return token ? { ...extra, Authorization: 'Bearer ' + token } : extra;
}

export async function request(method, path, body) {
  for (;;) {
    const init = { method, headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(path, init);
    if (response.status === 401) {
      const refused = sessionStorage.getItem(KEY) !== null;
      sessionStorage.removeItem(KEY);
      me = null;
      await askToken(refused ? 'That token was refused.' : '');
      continue;
    }
    const text = await response.text();
    const json = text && (response.headers.get('Content-Type') ?? '').includes('json') ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, json);
    return { json, headers: response.headers, status: response.status };
  }
}

export const get = (path) => request('GET', path).then((r) => r.json);

/** A streamed GET (output following): the response itself, for reading as it comes. */
export async function stream(path, extraHeaders = {}, signal, method = 'GET') {
  const response = await fetch(path, { method, headers: headers(extraHeaders), signal });
  if (response.status === 401) {
    sessionStorage.removeItem(KEY);
    await askToken();
    return stream(path, extraHeaders, signal, method);
  }
  return response;
}

/** {role, label, tokens}: what this token may do, asked once per page load. */
export async function whoAmI() {
  if (!me) me = await get('/me');
  return me;
}

export function allows(role, wanted) {
  const order = ['read', 'trigger', 'admin'];
  return order.indexOf(role) >= order.indexOf(wanted);
}

let pending = null;

function askToken(message = '') {
  if (pending) return pending;
  document.getElementById('login-error').textContent = message;
  const dialog = document.getElementById('login');
  const form = document.getElementById('login-form');
  const input = document.getElementById('login-token');
  pending = new Promise((resolve) => {
    form.onsubmit = (event) => {
      event.preventDefault();
      sessionStorage.setItem(KEY, input.value.trim());
      input.value = '';
      dialog.close();
      pending = null;
      resolve();
    };
  });
  dialog.showModal();
  input.focus();
  return pending;
}
