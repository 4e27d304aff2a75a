// Password hashing: argon2id with OWASP parameters, upgrade of hashes made with other parameters.
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { createPasswordHasher } from './password-hasher.ts';

const owasp = { memoryKib: 19456, timeCost: 2, parallelism: 1 };
const hasher = createPasswordHasher(owasp);

describe('createPasswordHasher', () => {
  it('hashes with argon2id, m=19456, t=2, p=1', async () => {
    const hashed = await hasher.hash('correct horse battery staple');
    expect(hashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
  });

  it('salts every hash, so the same password hashes differently', async () => {
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'));
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hashed = await hasher.hash('correct horse battery staple');
    await expect(hasher.verify(hashed, 'correct horse battery staple')).resolves.toBe(true);
    await expect(hasher.verify(hashed, 'correct horse battery stapl')).resolves.toBe(false);
  });

  it('answers false instead of throwing for a malformed hash', async () => {
    await expect(hasher.verify('not-a-hash', 'anything')).resolves.toBe(false);
    await expect(hasher.verify('', 'anything')).resolves.toBe(false);
  });

  it('does not ask to rehash a hash made with its own parameters', async () => {
    expect(hasher.needsRehash(await hasher.hash('pw'))).toBe(false);
  });

  it('asks to rehash a 19456 KiB hash once the memory cost is raised to 32768 KiB, and still verifies it', async () => {
    const stronger = createPasswordHasher({ ...owasp, memoryKib: 32768 });
    const old = await hasher.hash('pw');
    expect(stronger.needsRehash(old)).toBe(true);
    await expect(stronger.verify(old, 'pw')).resolves.toBe(true);
    const upgraded = await stronger.hash('pw');
    expect(upgraded).toContain('$m=32768,t=2,p=1$');
    expect(stronger.needsRehash(upgraded)).toBe(false);
  });

  it('asks to rehash a hash made with a different time cost or parallelism', async () => {
    expect(hasher.needsRehash(await createPasswordHasher({ ...owasp, timeCost: 3 }).hash('pw'))).toBe(true);
    expect(hasher.needsRehash(await createPasswordHasher({ ...owasp, parallelism: 2 }).hash('pw'))).toBe(true);
  });

  it('asks to rehash a hash of another algorithm', () => {
    expect(hasher.needsRehash('$2b$10$abcdefghijklmnopqrstuuN0KZ8bTqG4l2k8x0o2a1p7Dq1c5pXy')).toBe(true);
    expect(hasher.needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g')).toBe(true);
  });

  it('burns a verification for an unknown account and resolves, repeatedly', async () => {
    await expect(hasher.burn('guess-1')).resolves.toBeUndefined();
    await expect(hasher.burn('guess-2')).resolves.toBeUndefined();
  });

  it('pauses (for a locked account) without hashing once a verification has been timed', async () => {
    const fresh = createPasswordHasher(owasp);
    await fresh.verify(await fresh.hash('pw'), 'pw');
    // Argon2 computes on libuv's thread pool: ten verifications keep it busy, ten pauses (as long
    // as ten verifications) leave it idle. The pool's own CPU time is read, not the process's, which
    // also counts whatever V8's background threads do meanwhile on a busy machine.
    const before = poolCpuNanos();
    for (let i = 0; i < 10; i++) await fresh.pause();
    const pauses = poolCpuNanos() - before;
    const between = poolCpuNanos();
    for (let i = 0; i < 10; i++) await fresh.verify(await fresh.hash('pw'), 'pw');
    const verifications = poolCpuNanos() - between;
    expect(verifications).toBeGreaterThan(0);
    expect(pauses).toBeLessThan(verifications / 20);
  });
});

/** CPU time so far of this process's libuv pool threads ("libuv-worker"), where argon2 runs: Linux's per-thread schedstat, in ns. */
function poolCpuNanos(): number {
  let sum = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'libuv-worker') sum += Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return sum;
}
