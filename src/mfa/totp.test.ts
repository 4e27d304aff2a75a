import { generate } from 'otplib';
import { createMemoryStore } from '../ephemeral/index.ts';
import { createTotp } from './totp.ts';

// Halfway through a 30-second step, so ±1 step is unambiguous.
const NOW = 1_700_000_010;
const store = createMemoryStore();
afterAll(() => store.close());

const totpAt = (epoch: number) => createTotp({ ephemeral: store, now: () => epoch * 1000 });
const codeAt = (secret: string, epoch: number) => generate({ secret, epoch });
let n = 0;
const freshUser = () => `tenant-a:user-${++n}`;

describe('TOTP enrolment', () => {
  const totp = totpAt(NOW);

  it('generates a base32 secret of 20 random bytes', () => {
    const secret = totp.generateSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits / 5 bits per character
    expect(totp.generateSecret()).not.toBe(secret);
  });

  it('builds an otpauth:// URI naming issuer and account', () => {
    const secret = totp.generateSecret();
    const uri = new URL(totp.keyUri(secret, { issuer: 'St Mary Clinic', account: 'ann@example.org' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/St Mary Clinic:ann@example.org');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('St Mary Clinic');
    // SHA-1, 6 digits and 30 s are the Key URI Format defaults, so they may be left out.
    expect(uri.searchParams.get('algorithm') ?? 'SHA1').toBe('SHA1');
    expect(uri.searchParams.get('digits') ?? '6').toBe('6');
    expect(uri.searchParams.get('period') ?? '30').toBe('30');
  });

  it('refuses a colon in issuer or account, which would make the label ambiguous', () => {
    const secret = totp.generateSecret();
    expect(() => totp.keyUri(secret, { issuer: 'a:b', account: 'ann' })).toThrow(/must not contain/);
    expect(() => totp.keyUri(secret, { issuer: 'a', account: 'evil:ann' })).toThrow(/must not contain/);
  });

  it('renders the URI as an inline SVG without script', async () => {
    const svg = await totp.qrSvg(totp.keyUri(totp.generateSecret(), { issuer: 'Caregate', account: 'ann' }));
    expect(svg.trim()).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
    expect(svg).not.toMatch(/<script|javascript:|on\w+=/i);
  });
});

describe('TOTP verification', () => {
  const totp = totpAt(NOW);
  const secret = totp.generateSecret();

  it('accepts the code of the current step', async () => {
    expect(await totp.verify(secret, await codeAt(secret, NOW), freshUser())).toBe(true);
  });

  it('refuses the same code a second time', async () => {
    const user = freshUser();
    const code = await codeAt(secret, NOW);
    expect(await totp.verify(secret, code, user)).toBe(true);
    expect(await totp.verify(secret, code, user)).toBe(false);
  });

  it('accepts each code once even when the same code arrives twice at the same time', async () => {
    const user = freshUser();
    const code = await codeAt(secret, NOW);
    const results = await Promise.all(Array.from({ length: 10 }, () => totp.verify(secret, code, user)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('accepts the previous and the next step (clock drift)', async () => {
    expect(await totp.verify(secret, await codeAt(secret, NOW - 30), freshUser())).toBe(true);
    expect(await totp.verify(secret, await codeAt(secret, NOW + 30), freshUser())).toBe(true);
  });

  it('refuses codes two steps away', async () => {
    expect(await totp.verify(secret, await codeAt(secret, NOW - 60), freshUser())).toBe(false);
    expect(await totp.verify(secret, await codeAt(secret, NOW + 60), freshUser())).toBe(false);
  });

  it('refuses a wrong code and a code made from another secret', async () => {
    const right = await codeAt(secret, NOW);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    expect(await totp.verify(secret, wrong, freshUser())).toBe(false);
    expect(await totp.verify(secret, await codeAt(totp.generateSecret(), NOW), freshUser())).toBe(false);
  });

  it('refuses malformed input without reaching the crypto', async () => {
    // An unusable secret makes otplib throw: returning false proves the input was refused first.
    await expect(totp.verify('not-a-secret', '123456', freshUser())).rejects.toThrow();
    for (const bad of ['', '12345', '1234567', '12a456', ' 123456', '123 456', '１２３４５６', '123456\n']) {
      await expect(totp.verify('not-a-secret', bad, freshUser())).resolves.toBe(false);
    }
  });

  it('refuses an older, still valid code once a newer one was accepted', async () => {
    const user = freshUser();
    const older = await codeAt(secret, NOW - 30);
    expect(await totp.verify(secret, await codeAt(secret, NOW), user)).toBe(true);
    expect(await totp.verify(secret, older, user)).toBe(false);
  });

  it('accepts the next step after the current one, and then nothing before it', async () => {
    const user = freshUser();
    expect(await totp.verify(secret, await codeAt(secret, NOW), user)).toBe(true);
    const later = totpAt(NOW + 30);
    expect(await later.verify(secret, await codeAt(secret, NOW + 30), user)).toBe(true);
    expect(await later.verify(secret, await codeAt(secret, NOW), user)).toBe(false);
  });

  it('keeps replay state per replay key', async () => {
    const code = await codeAt(secret, NOW);
    expect(await totp.verify(secret, code, freshUser())).toBe(true);
    expect(await totp.verify(secret, code, freshUser())).toBe(true);
  });
});
