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
