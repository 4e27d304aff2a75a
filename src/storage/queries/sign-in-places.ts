// The places each person has signed in from (migration 0015): device cookies (hashed) and address
// neighbourhoods. Kept bounded: only the most recently seen few of each kind per person stay.
import type { SignInPlace } from '../entities/network-rule.ts';
import type { Repos } from '../storage.ts';
import { exec, prepared } from './sql.ts';

/** How many places of each kind a person keeps; the least recently seen go first. */
export const PLACES_KEPT = 20;

export interface NotedPlaces {
  /** Whether the person had any place remembered before (the first sign-in noted had none). */
  hadAny: boolean;
  /** The kinds whose place was new to the person. */
  newKinds: ReadonlySet<SignInPlace['kind']>;
}

const NOTE = prepared(`
    WITH before AS (SELECT EXISTS (SELECT 1 FROM sign_in_places WHERE user_id = $1) AS had_any),
    noted AS (
      INSERT INTO sign_in_places (user_id, kind, value)
      SELECT $1, p.kind, p.value FROM unnest($2::text[], $3::text[]) AS p(kind, value)
      ON CONFLICT (user_id, kind, value) DO UPDATE SET last_seen_at = now()
      RETURNING kind, (xmax = 0) AS inserted
    ),
    trimmed AS (
      DELETE FROM sign_in_places s USING unnest($2::text[], $3::text[]) AS p(kind, value)
      WHERE s.user_id = $1 AND s.kind = p.kind AND s.value <> p.value AND s.value NOT IN (
        SELECT o.value FROM sign_in_places o WHERE o.user_id = $1 AND o.kind = p.kind AND o.value <> p.value
        ORDER BY o.last_seen_at DESC, o.first_seen_at DESC LIMIT ${PLACES_KEPT - 1})
    )
    SELECT (SELECT had_any FROM before) AS had_any, array_remove(array_agg(CASE WHEN inserted THEN kind END), NULL) AS new_kinds FROM noted`);

/**
 * Notes a sign-in from `places` (at most one of each kind) in one statement. Its parts all see the
 * table as it was before it: whether the person had any place yet; the insert, which tells only one
 * of two concurrent sign-ins from the same new place that it was new; and the trim, which keeps the
 * PLACES_KEPT - 1 most recently seen others of each kind beside the place noted now and never
 * touches that place's row (a row changed twice in one statement is undefined in PostgreSQL).
 */
export async function note(db: Repos, userId: string, places: ReadonlyArray<{ kind: SignInPlace['kind']; value: string }>): Promise<NotedPlaces> {
  if (new Set(places.map((p) => p.kind)).size !== places.length) throw new Error('sign-in places: at most one place of each kind');
  const [r] = await exec<{ had_any: boolean; new_kinds: SignInPlace['kind'][] | null }>(db, NOTE, [userId, places.map((p) => p.kind), places.map((p) => p.value)]);
  return { hadAny: Boolean(r?.had_any), newKinds: new Set(r?.new_kinds ?? []) };
}

/** Whether the person has signed in from this place before. */
export async function known(db: Repos, userId: string, kind: SignInPlace['kind'], value: string): Promise<boolean> {
  return (await exec(db, 'SELECT 1 FROM sign_in_places WHERE user_id = $1 AND kind = $2 AND value = $3', [userId, kind, value])).length > 0;
}
