// Password sign-in decisions: argon2id upgrade of old hashes, and the real reason for every refusal
// recorded for admins while the person at the form learns nothing.
import { hash } from '@node-rs/argon2';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { passwordLogin } from '../../../src/interactions/index.ts';
import { resolvePolicy } from '../../../src/accounts/index.ts';

const POLICY = resolvePolicy({});

const cli = { type: 'cli' as const, id: 'test' };
const actor = { type: 'anonymous' as const, ip: '203.0.113.7' };
const PASSWORD = 'third-long-password-of-tests';
let cg: TestCaregate;

beforeAll(async () => {
  cg = await startTestCaregate();
});
afterAll(async () => cg?.close());

const tenant = () => cg.runtime.accounts.tenants.findBySlug('demo').then((t) => t!);

it('re-hashes a password stored with other argon2 parameters on the next successful sign-in', async () => {
  const user = await cg.runtime.accounts.users.create('demo', { username: 'dana', password: PASSWORD }, [], cli);
  // A hash from an older deployment: argon2id with a lower memory cost and three passes.
  const legacy = await hash(PASSWORD, { algorithm: 2, memoryCost: 8192, timeCost: 3, parallelism: 1 });
  await cg.runtime.storage.users.update({ id: user.id }, { passwordHash: legacy });

  const result = await passwordLogin(cg.runtime, await tenant(), POLICY, 'dana', PASSWORD, actor);
  expect(result.ok).toBe(true);
  const stored = (await cg.runtime.storage.users.findOneBy({ id: user.id }))!;
  expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  expect(stored.lastLoginAt).toBeInstanceOf(Date);
  expect((await passwordLogin(cg.runtime, await tenant(), POLICY, 'dana', PASSWORD, actor)).ok).toBe(true);
});

it('signs in by email as well as by username, case-insensitively', async () => {
  await cg.runtime.accounts.users.create('demo', { username: 'Erin', email: 'erin@clinic.example', password: PASSWORD }, [], cli);
  expect((await passwordLogin(cg.runtime, await tenant(), POLICY, 'ERIN@clinic.example', PASSWORD, actor)).ok).toBe(true);
  expect((await passwordLogin(cg.runtime, await tenant(), POLICY, 'erin', PASSWORD, actor)).ok).toBe(true);
});

it('refuses disabled, invited and expired accounts even with the right password, recording why', async () => {
  const t = await tenant();
  const frank = await cg.runtime.accounts.users.create('demo', { username: 'frank', password: PASSWORD }, [], cli);
  await cg.runtime.accounts.users.setStatus('demo', frank.id, 'disabled', cli);
  await cg.runtime.accounts.users.create('demo', { username: 'gina', invite: true }, [], cli);
  await cg.runtime.accounts.users.create('demo', { username: 'hank', password: PASSWORD, expiresAt: new Date(Date.now() - 1000) }, [], cli);

  expect(await passwordLogin(cg.runtime, t, POLICY, 'frank', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'not_active' });
  expect(await passwordLogin(cg.runtime, t, POLICY, 'gina', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'no_password' });
  expect(await passwordLogin(cg.runtime, t, POLICY, 'hank', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'account_expired' });
  expect(await passwordLogin(cg.runtime, t, POLICY, 'frank', 'not-the-password', actor)).toMatchObject({ ok: false, reason: 'bad_password' });

  const failures = await cg.runtime.storage.auditEvents.find({ where: { tenantId: t.id, action: 'login.failure' } });
  expect(failures.map((e) => e.details?.reason)).toEqual(expect.arrayContaining(['not_active', 'no_password', 'account_expired', 'bad_password']));
  expect(failures.every((e) => e.ip === '203.0.113.7')).toBe(true);
});

it('keeps users of one tenant out of another', async () => {
  await cg.runtime.accounts.tenants.create({ slug: 'elsewhere' }, cli);
  const other = (await cg.runtime.accounts.tenants.findBySlug('elsewhere'))!;
  expect(await passwordLogin(cg.runtime, other, POLICY, 'dana', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'unknown_user' });
});

describe('lockout and throttling', () => {
  it('lets 50 simultaneous wrong guesses hash only up to the threshold, then locks the account', async () => {
    const t = await tenant();
    const user = await cg.runtime.accounts.users.create('demo', { username: 'ivy', password: PASSWORD }, [], cli);
    const policy = resolvePolicy({ lockout: { threshold: 5 } });
    let verified = 0;
    const verify = cg.runtime.hasher.verify;
    const counting = { ...cg.runtime, hasher: { ...cg.runtime.hasher, verify: (h: string, p: string) => (verified++, verify(h, p)) } };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => passwordLogin(counting, t, policy, 'ivy', `wrong-${i}`, { ...actor, ip: `198.51.100.${i}` })));
    expect(verified).toBe(5);
    expect(results.filter((r) => !r.ok && r.reason === 'bad_password')).toHaveLength(5);
    expect(results.filter((r) => !r.ok && r.reason === 'account_locked')).toHaveLength(45);
    // Locked: even the right password is refused, and the person sees the same answer as for a wrong one.
    expect(await passwordLogin(cg.runtime, t, policy, 'ivy', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'account_locked' });
    expect((await cg.runtime.lockout.state(t.id, user.id, policy.lockout)).locked).toBe(true);
    await cg.runtime.lockout.unlock(t.id, user.id);
    expect((await passwordLogin(cg.runtime, t, policy, 'ivy', PASSWORD, actor)).ok).toBe(true);
  });

  it('keeps an account locked in the database until an admin unlocks it when the policy says so', async () => {
    const t = await tenant();
    const user = await cg.runtime.accounts.users.create('demo', { username: 'jack', password: PASSWORD }, [], cli);
    const policy = resolvePolicy({ lockout: { threshold: 2, mode: 'admin' } });
    for (const guess of ['a-wrong-one', 'another-wrong-one']) await passwordLogin(cg.runtime, t, policy, 'jack', guess, actor);
    expect((await cg.runtime.storage.users.findOneBy({ id: user.id }))!.status).toBe('locked');
    expect(await passwordLogin(cg.runtime, t, policy, 'jack', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'account_locked' });
    await cg.runtime.accounts.users.unlock('demo', 'jack', cli);
    expect((await passwordLogin(cg.runtime, t, policy, 'jack', PASSWORD, actor)).ok).toBe(true);
    const actions = (await cg.runtime.storage.auditEvents.find({ where: { tenantId: t.id, targetId: user.id } })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['user.lock', 'user.unlock']));
  });

  it('throttles one address spraying many accounts before hashing, without touching other addresses', async () => {
    const t = await tenant();
    // The throttle counts in fixed windows (src/security/lockout.ts): the longest one, so the six
    // attempts below do not straddle a window's end (with 60 s, a slow run sometimes did).
    const policy = resolvePolicy({ addressThrottle: { maxFailures: 5, windowSeconds: 86_400 } });
    const spray = { ...actor, ip: '192.0.2.99' };
    for (let i = 0; i < 5; i++) await passwordLogin(cg.runtime, t, policy, `nobody-${i}`, 'guess-guess-guess', spray);
    expect(await passwordLogin(cg.runtime, t, policy, 'dana', PASSWORD, spray)).toMatchObject({ ok: false, reason: 'address_throttled' });
    expect((await passwordLogin(cg.runtime, t, policy, 'dana', PASSWORD, { ...actor, ip: '192.0.2.100' })).ok).toBe(true);
  });
});
