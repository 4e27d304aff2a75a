// Where the console is: paths below /t/{tenant}/admin, moved through with the History API so the
// browser's back button, bookmarks and "open in a new tab" work as on any site.
import { consoleBase } from './auth.js';

const listeners = new Set();

/** The path below the console's base: "/users/ada" for /t/demo/admin/users/ada. */
export function currentPath() {
  const rest = location.pathname.slice(consoleBase().length);
  return rest === '' ? '/' : rest;
}

/** The full URL path of a console path, for hrefs. */
export const href = (path) => `${consoleBase()}${path === '/' ? '' : path}`;

export function navigate(path, { replace = false } = {}) {
  const url = path.startsWith('/t/') ? path : href(path);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const listener of listeners) listener();
}

export function onNavigate(listener) {
  listeners.add(listener);
  const pop = () => listener();
  addEventListener('popstate', pop);
  return () => {
    listeners.delete(listener);
    removeEventListener('popstate', pop);
  };
}

/** The query string's values, as an object. */
export const queryOf = () => Object.fromEntries(new URLSearchParams(location.search));

/** Replaces the query string (filters, page) without a new history entry. */
export function setQuery(values) {
  const query = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== undefined && v !== '' && v !== null && v !== false));
  history.replaceState(null, '', `${location.pathname}${query.size ? `?${query}` : ''}`);
}

/**
 * Matches `path` against patterns such as "/users/:user"; returns the parameters or undefined.
 */
export function match(pattern, path) {
  const names = [];
  const regex = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, name) => (names.push(name), '([^/]+)'))}/?$`);
  const found = regex.exec(path);
  return found ? Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])])) : undefined;
}
