// Password sign-in decisions: argon2id upgrade of old hashes, and the real reason for every refusal
// recorded for admins while the person at the form learns nothing.
import { hash } from '@node-rs/argon2';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { passwordLogin } from '../../../src/interactions/index.ts';

const cli = { type: 'cli' as const, id: 'test' };
const actor = { type: 'anonymous' as const, ip: '203.0.113.7' };
const PASSWORD = 'dana-has-a-long-password';
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

  const result = await passwordLogin(cg.runtime, await tenant(), 'dana', PASSWORD, actor);
  expect(result.ok).toBe(true);
  const stored = (await cg.runtime.storage.users.findOneBy({ id: user.id }))!;
  expect(stored.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  expect(stored.lastLoginAt).toBeInstanceOf(Date);
  expect((await passwordLogin(cg.runtime, await tenant(), 'dana', PASSWORD, actor)).ok).toBe(true);
});

it('signs in by email as well as by username, case-insensitively', async () => {
  await cg.runtime.accounts.users.create('demo', { username: 'Erin', email: 'erin@clinic.example', password: PASSWORD }, [], cli);
  expect((await passwordLogin(cg.runtime, await tenant(), 'ERIN@clinic.example', PASSWORD, actor)).ok).toBe(true);
  expect((await passwordLogin(cg.runtime, await tenant(), 'erin', PASSWORD, actor)).ok).toBe(true);
});

it('refuses disabled, invited and expired accounts even with the right password, recording why', async () => {
  const t = await tenant();
  const frank = await cg.runtime.accounts.users.create('demo', { username: 'frank', password: PASSWORD }, [], cli);
  await cg.runtime.accounts.users.setStatus('demo', frank.id, 'disabled', cli);
  await cg.runtime.accounts.users.create('demo', { username: 'gina', invite: true }, [], cli);
  await cg.runtime.accounts.users.create('demo', { username: 'hank', password: PASSWORD, expiresAt: new Date(Date.now() - 1000) }, [], cli);

  expect(await passwordLogin(cg.runtime, t, 'frank', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'not_active' });
  expect(await passwordLogin(cg.runtime, t, 'gina', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'no_password' });
  expect(await passwordLogin(cg.runtime, t, 'hank', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'account_expired' });
  expect(await passwordLogin(cg.runtime, t, 'frank', 'not-the-password', actor)).toMatchObject({ ok: false, reason: 'bad_password' });

  const failures = await cg.runtime.storage.auditEvents.find({ where: { tenantId: t.id, action: 'login.failure' } });
  expect(failures.map((e) => e.details?.reason)).toEqual(expect.arrayContaining(['not_active', 'no_password', 'account_expired', 'bad_password']));
  expect(failures.every((e) => e.ip === '203.0.113.7')).toBe(true);
});

it('keeps users of one tenant out of another', async () => {
  await cg.runtime.accounts.tenants.create({ slug: 'elsewhere' }, cli);
  const other = (await cg.runtime.accounts.tenants.findBySlug('elsewhere'))!;
  expect(await passwordLogin(cg.runtime, other, 'dana', PASSWORD, actor)).toMatchObject({ ok: false, reason: 'unknown_user' });
});
