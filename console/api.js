// The admin API, as the console calls it: JSON in and out with the signed-in person's token. A
// refused token (401) sends the person through the sign-in again; any other failure is an ApiError
// carrying the API's code, its message, and the fields it names, for the form to show beside them.
import { accessToken, forgetToken, signIn } from './auth.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body.error_description || body.message || `The request failed (${status}).`);
    this.status = status;
    this.code = body.error || 'error';
    this.details = body.details ?? {};
    /** Field name → message, from "field: message" issues. */
    this.fields = {};
    for (const issue of this.details.issues ?? [this.message]) {
      const match = /^([A-Za-z][\w.]*): (.+)$/.exec(issue);
      if (match) this.fields[match[1]] ??= match[2];
    }
  }
}

const apiBase = () => document.body.dataset.api;

async function call(method, path, { body, query } = {}) {
  const token = accessToken();
  if (!token) {
    await signIn();
    return new Promise(() => {}); // the page is leaving
  }
  const search = query ? `?${new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== '' && v !== null))}` : '';
  const response = await fetch(`${apiBase()}${path}${search}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    forgetToken();
    await signIn();
    return new Promise(() => {});
  }
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : undefined;
  if (!response.ok) throw new ApiError(response.status, parsed ?? {});
  return { body: parsed, headers: response.headers };
}

export const api = {
  get: async (path, query) => (await call('GET', path, { query })).body,
  /** A list and the X-Total-Count the API sent with it. */
  page: async (path, query) => {
    const { body, headers } = await call('GET', path, { query });
    return { items: body, total: Number(headers.get('x-total-count') ?? body.length) };
  },
  post: async (path, body = {}, query) => (await call('POST', path, { body, query })).body,
  put: async (path, body) => (await call('PUT', path, { body })).body,
  patch: async (path, body) => (await call('PATCH', path, { body })).body,
  del: async (path, query) => (await call('DELETE', path, { query })).body,
  /** A download (audit export) as a Blob, with the token. */
  blob: async (path, query) => {
    const token = accessToken();
    const response = await fetch(`${apiBase()}${path}?${new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== ''))}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => ({})));
    return response.blob();
  },
};

/** `/users/{ref}` with each part encoded. */
export const path = (strings, ...values) => strings.reduce((out, s, i) => out + s + (i < values.length ? encodeURIComponent(values[i]) : ''), '');
