// Permission strings are "feature:action" or "feature:action:own" (the action only on the
// user's own records). Roles may hold wildcards ("*", "feature:*") that expand against an
// application's catalogue.
const PERMISSION = /^[a-z][a-z0-9_.-]*(:[a-z][a-z0-9_.-]*)+$/;

export function isPermission(value: string): boolean {
  return value === '*' || /^[a-z][a-z0-9_.-]*:\*$/.test(value) || PERMISSION.test(value);
}

/** "notes:edit:own" → "notes:edit"; "notes:edit" → "notes:edit". */
export function basePermission(permission: string): string {
  return permission.endsWith(':own') ? permission.slice(0, -4) : permission;
}

/**
 * Keeps the permissions an application understands: entries of its catalogue, with wildcards
 * expanded. A full grant ("notes:edit") wins over its own-only form ("notes:edit:own").
 */
export function projectPermissions(granted: Iterable<string>, catalogue: readonly string[]): string[] {
  const known = new Set(catalogue.map(basePermission));
  const result = new Set<string>();
  const add = (p: string) => {
    if (!known.has(basePermission(p))) return;
    if (p.endsWith(':own') && result.has(basePermission(p))) return;
    if (!p.endsWith(':own')) result.delete(`${p}:own`);
    result.add(p);
  };
  for (const p of granted) {
    if (p === '*') known.forEach(add);
    else if (p.endsWith(':*')) {
      const feature = p.slice(0, -1);
      for (const k of known) if (k.startsWith(feature)) add(k);
    } else add(p);
  }
  return [...result].sort();
}

/**
 * True when `held` (role permissions as written, wildcards included) covers `wanted`: the same
 * string, `*`, a `feature:*` wildcard over it, or — for an own-only permission — its full form.
 * A wildcard is covered only by an equal or wider wildcard.
 */
export function permissionCovered(held: ReadonlySet<string>, wanted: string): boolean {
  if (held.has('*') || held.has(wanted)) return true;
  if (wanted === '*') return false;
  if (wanted.endsWith(':own') && held.has(wanted.slice(0, -4))) return true;
  for (const h of held) {
    if (h.endsWith(':*') && wanted.startsWith(h.slice(0, -1))) return true;
  }
  return false;
}

/** The permissions of `wanted` that `held` does not cover, sorted (empty: the grant is allowed). */
export function missingPermissions(held: ReadonlySet<string>, wanted: Iterable<string>): string[] {
  return [...new Set([...wanted].filter((p) => !permissionCovered(held, p)))].sort();
}
