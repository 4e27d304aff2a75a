// Time-bound things — an assignment, an account, a link — hold from their start (if any) until
// their end (if any); at the end's instant they no longer hold. The one home of that rule in
// memory; in SQL it is src/storage/queries/validity.ts.

/** True when an end is set and has come. */
export function hasExpired(expiresAt: Date | null | undefined, now: Date): boolean {
  return Boolean(expiresAt && expiresAt <= now);
}

/** True when `now` lies within the validity: started (or no start) and not expired. */
export function inEffect(validity: { startsAt: Date | null; expiresAt: Date | null }, now: Date): boolean {
  return !(validity.startsAt && validity.startsAt > now) && !hasExpired(validity.expiresAt, now);
}
