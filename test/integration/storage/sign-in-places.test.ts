// The places a person signs in from are noted in one statement (src/storage/queries/sign-in-places.ts):
// whether they had any before, which kinds were new, and a trim that keeps the most recently seen
// PLACES_KEPT of each kind — the place noted now always among them — on both stores.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { queries, type Storage } from '../../../src/storage/index.ts';
import { sqlRepos } from '../../../src/storage/storage.ts';
import { openTestStorage } from '../../support/stores.ts';

const { PLACES_KEPT } = queries.signInPlaces;

let storage: Storage;
let close: (() => Promise<void>) | undefined;
let tenantId: string;

beforeAll(async () => {
  ({ storage, close } = await openTestStorage());
  tenantId = randomUUID();
  await sqlRepos(storage).query('INSERT INTO tenants (id, slug, name) VALUES ($1, $2, $3)', [tenantId, 'places', 'Places']);
});

afterAll(async () => {
  await close?.();
});

async function newUser(): Promise<string> {
  const id = randomUUID();
  await sqlRepos(storage).query("INSERT INTO users (id, tenant_id, username, status) VALUES ($1, $2, $3, 'active')", [id, tenantId, `u-${id}`]);
  return id;
}

const kept = async (userId: string, kind: 'device' | 'range') =>
  (await sqlRepos(storage).query<{ value: string }>('SELECT value FROM sign_in_places WHERE user_id = $1 AND kind = $2 ORDER BY value', [userId, kind])).map((r) => r.value);

/**
 * Moves every place of the person a day back, each a further `value` seconds (0 for a value that is
 * not a number), so that which are the most recently seen is well defined.
 */
async function age(userId: string) {
  const seconds = "(coalesce(nullif(regexp_replace(value, '[^0-9]', '', 'g'), ''), '0') || ' seconds')::interval";
  await sqlRepos(storage).query(`UPDATE sign_in_places SET last_seen_at = now() - interval '1 day' - ${seconds},
    first_seen_at = now() - interval '1 day' - ${seconds} WHERE user_id = $1`, [userId]);
}

describe('noting a sign-in place', () => {
  it('tells whether the person had any place before and which kinds are new', async () => {
    const user = await newUser();
    const first = await queries.signInPlaces.note(storage, user, [{ kind: 'device', value: 'd1' }, { kind: 'range', value: 'r1' }]);
    expect(first.hadAny).toBe(false);
    expect([...first.newKinds].sort()).toEqual(['device', 'range']);

    const again = await queries.signInPlaces.note(storage, user, [{ kind: 'device', value: 'd1' }, { kind: 'range', value: 'r2' }]);
    expect(again.hadAny).toBe(true);
    expect([...again.newKinds]).toEqual(['range']);

    const device = await queries.signInPlaces.note(storage, user, [{ kind: 'device', value: 'd1' }]);
    expect(device).toEqual({ hadAny: true, newKinds: new Set() });
    expect(await kept(user, 'device')).toEqual(['d1']);
    expect(await kept(user, 'range')).toEqual(['r1', 'r2']);
  });

  it('keeps the most recently seen of each kind, the place noted now among them, and the other kind untouched', async () => {
    const user = await newUser();
    // Values are seconds of age once aged: "1" is the most recent, PLACES_KEPT the oldest.
    for (let i = 1; i <= PLACES_KEPT; i++) await queries.signInPlaces.note(storage, user, [{ kind: 'device', value: String(i) }]);
    await queries.signInPlaces.note(storage, user, [{ kind: 'range', value: '1' }]);
    await age(user);
    const all = Array.from({ length: PLACES_KEPT }, (_, i) => String(i + 1)).sort();
    expect(await kept(user, 'device')).toEqual(all);

    // A new one pushes the oldest out.
    const noted = await queries.signInPlaces.note(storage, user, [{ kind: 'device', value: 'new' }]);
    expect([...noted.newKinds]).toEqual(['device']);
    const afterNew = await kept(user, 'device');
    expect(afterNew).toHaveLength(PLACES_KEPT);
    expect(afterNew).toContain('new');
    expect(afterNew).not.toContain(String(PLACES_KEPT));

    // Seeing the oldest remaining one again keeps it, and nothing else goes.
    await age(user);
    const oldest = String(PLACES_KEPT - 1);
    await queries.signInPlaces.note(storage, user, [{ kind: 'device', value: oldest }]);
    expect(await kept(user, 'device')).toEqual(afterNew);
    expect(await kept(user, 'range')).toEqual(['1']);
  });

  it('tells only one of two sign-ins at once from the same new place that it is new', async () => {
    const user = await newUser();
    await queries.signInPlaces.note(storage, user, [{ kind: 'device', value: 'old' }]);
    const both = await Promise.all([1, 2].map(() => queries.signInPlaces.note(storage, user, [{ kind: 'device', value: 'same' }])));
    expect(both.filter((n) => n.newKinds.has('device'))).toHaveLength(1);
    expect(await kept(user, 'device')).toEqual(['old', 'same']);
  });

  it('refuses two places of one kind (the trim keeps one noted place per kind)', async () => {
    const user = await newUser();
    await expect(queries.signInPlaces.note(storage, user, [{ kind: 'device', value: 'a' }, { kind: 'device', value: 'b' }])).rejects.toThrow(/one place of each kind/);
  });
});
