// Fuzzing the way SAML XML comes in: decodeMessage, the request and response readers and the
// signature check, then the HTTP endpoints, with generated hostile input — random bytes, truncated
// and mutated genuine messages, deep nesting, huge and many attributes, many elements, broken
// encodings. Every input must end in a SamlError or a result, never another exception; every HTTP
// answer is a 4xx page or a genuine protocol step, and the server keeps serving. Inputs come from
// a seeded generator, so a failure names the case that reproduces it.
import { deflateRawSync } from 'node:zlib';
import { decodeMessage, readAuthnRequest, readLogoutRequest, readLogoutResponse, SamlError, verifyRootSignature } from '../../../src/saml/index.ts';
import { createAgent } from '../../support/browser-agent.ts';
import { authnRequestXml, logoutRequestXml, postedForm, redirectQuery, signEnveloped, signedRedirectQuery, throughSignIn } from '../../support/saml-sp.ts';
import { OPEN, PASSWORD, SIGNED, startSamlFixture, type SamlFixture } from './saml-fixture.ts';

/** mulberry32: small, seeded, good enough to spread cases. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;
  return { int, pick, chance: (p: number) => next() < p };
}
type Gen = ReturnType<typeof generator>;

const NOISE = ['<', '>', '</', '/>', '"', "'", '=', '&', '&amp;', '&#0;', '&#xD800;', '&undefined;', '<!--', '-->', '<![CDATA[', ']]>', '<?', '?>', '<!DOCTYPE x>',
  '<!ENTITY e "x">', ' xmlns="urn:x"', ' xmlns:saml="urn:evil"', ' xmlns:samlp=""', ' ID="_x"', ' Version="1.1"', ' IssueInstant="not-a-date"', '<saml:Issuer>', '</saml:Issuer>',
  '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">', '</ds:Signature>', '\u0000', '\uFFFE', '\uD800', '\u202E', 'é', '🙂', '\r\n', '\t', ' '.repeat(100)];

/** A genuine message changed by 1–8 random edits: noise inserted, ranges deleted, duplicated or cut. */
function mutate(g: Gen, xml: string): string {
  let s = xml;
  for (let edits = 1 + g.int(8); edits > 0 && s.length; edits--) {
    const at = g.int(s.length);
    const len = 1 + g.int(Math.min(40, s.length - at));
    switch (g.int(5)) {
      case 0: s = s.slice(0, at) + g.pick(NOISE) + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + len); break;
      case 2: s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len); break;
      case 3: s = s.slice(0, at) + String.fromCharCode(g.int(0xffff)) + s.slice(at + 1); break;
      default: s = s.slice(0, at); break;
    }
  }
  return s;
}

/** Big and odd shapes: deep nesting, huge or many attributes, many elements, long text, namespace storms. */
function structural(g: Gen, xml: string): string {
  const before = xml.indexOf('</saml:Issuer>') + '</saml:Issuer>'.length;
  const put = (inner: string) => xml.slice(0, before) + inner + xml.slice(before);
  const n = 1 + g.int(40_000);
  switch (g.int(7)) {
    case 0: return put(`${'<a>'.repeat(n)}${'</a>'.repeat(g.chance(0.8) ? n : g.int(n))}`);
    case 1: return xml.replace(/<saml:Issuer>([^<]*)/, `<saml:Issuer>${'<b>'.repeat(n)}$1${'</b>'.repeat(n)}`);
    case 2: return xml.replace(' Version=', ` Huge="${'x'.repeat(n * 8)}" Version=`);
    case 3: return xml.replace(' Version=', ` ${Array.from({ length: Math.min(n, 25_000) }, (_, i) => `a${i}="${i}"`).join(' ')} Version=`);
    case 4: return put('<samlp:Extensions>' + '<x/>'.repeat(n) + '</samlp:Extensions>');
    case 5: return put(`<samlp:Extensions>${'text&amp;'.repeat(n)}</samlp:Extensions>`);
    default: return put(Array.from({ length: Math.min(n, 4000) }, (_, i) => `<p${i}:e xmlns:p${i}="urn:x:${i}">`).join('') + Array.from({ length: Math.min(n, 4000) }, (_, i) => `</p${Math.min(n, 4000) - 1 - i}:e>`).join(''));
  }
}

/** Random bytes, read as UTF-8 or Latin-1. */
function randomText(g: Gen): string {
  const bytes = Buffer.from(Array.from({ length: g.int(4096) }, () => g.int(256)));
  return g.chance(0.5) ? bytes.toString('utf8') : bytes.toString('latin1');
}

/** What the encoded message field might hold: base64 of the XML (deflated or not), broken in a few ways. */
function encodings(g: Gen, xml: string): unknown {
  const plain = Buffer.from(xml);
  const deflated = deflateRawSync(plain);
  switch (g.int(9)) {
    case 0: return plain.toString('base64');
    case 1: return deflated.toString('base64');
    case 2: return deflated.subarray(0, g.int(deflated.length)).toString('base64');
    case 3: return deflated.toString('base64').replace(/(.{60})/g, '$1\r\n');
    case 4: return deflated.toString('base64url');
    case 5: return `${deflated.toString('base64')}===`;
    case 6: return randomText(g);
    case 7: return g.pick([undefined, null, '', 42, ['a', 'b'], { SAMLRequest: 'x' }]);
    default: return Buffer.from(Array.from({ length: g.int(2048) }, () => g.int(256))).toString('base64');
  }
}

/** Runs `read`; returns a description of anything thrown that is not a SamlError. */
function unexpected(label: string, read: () => unknown): string | undefined {
  try {
    read();
    return undefined;
  } catch (error) {
    return error instanceof SamlError ? undefined : `${label}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`.slice(0, 300);
  }
}

let f: SamlFixture;
beforeAll(async () => (f = await startSamlFixture()));
afterAll(async () => f?.cg.close());

const seeds = () => ({
  authn: authnRequestXml({ issuer: OPEN.entityId, destination: f.sso, acsUrl: OPEN.acs, inner: '<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/><samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>' }),
  logout: logoutRequestXml({ issuer: OPEN.entityId, nameId: 'someone', sessionIndex: '_abc', destination: f.slo }),
  logoutResponse: `<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${f.slo}" InResponseTo="_q1"><saml:Issuer>${OPEN.entityId}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`,
  signed: signEnveloped(authnRequestXml({ issuer: SIGNED.entityId, destination: f.sso, acsUrl: SIGNED.acs }), f.signedKeys),
});

describe('parsers', () => {
  const readers = [readAuthnRequest, readLogoutRequest, readLogoutResponse];
  const readAll = (label: string, xml: string) => readers.map((read) => unexpected(`${label} ${read.name}`, () => read(xml))).filter(Boolean) as string[];

  it('reads 3,000 mutated and truncated genuine messages with each reader: a result or a SamlError, nothing else', () => {
    const g = generator(1);
    const s = seeds();
    const failures: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const seed = g.pick([s.authn, s.logout, s.logoutResponse, s.signed]);
      const xml = g.chance(0.2) ? seed.slice(0, g.int(seed.length)) : mutate(g, seed);
      failures.push(...readAll(`case ${i}`, xml));
    }
    expect(failures).toEqual([]);
  });

  it('reads 300 random byte strings, and 60 deep, wide, attribute-heavy or namespace-heavy documents', () => {
    const g = generator(2);
    const s = seeds();
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) failures.push(...readAll(`random ${i}`, randomText(g)));
    for (let i = 0; i < 60; i++) {
      const seed = g.pick([s.authn, s.logout, s.logoutResponse]);
      const read = readers[[s.authn, s.logout, s.logoutResponse].indexOf(seed)]!;
      const failure = unexpected(`structural ${i} ${read.name}`, () => read(structural(g, seed)));
      if (failure) failures.push(failure);
    }
    expect(failures).toEqual([]);
  });

  it('decodes 2,000 encoded fields of every shape: XML text or a SamlError', () => {
    const g = generator(3);
    const s = seeds();
    const failures: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const xml = g.chance(0.02) ? structural(g, s.authn) : mutate(g, g.pick([s.authn, s.logout]));
      const field = encodings(g, xml);
      for (const deflated of [true, false]) {
        const failure = unexpected(`case ${i} deflated=${deflated}`, () => {
          const text = decodeMessage(field, deflated);
          if (typeof text !== 'string') throw new Error('decodeMessage returned something other than text');
          readAuthnRequest(text);
        });
        if (failure) failures.push(failure);
      }
    }
    expect(failures).toEqual([]);
  });

  it('checks the signature of 600 mutated signed requests and 40 huge ones: the signed XML, or a SamlError', () => {
    const g = generator(4);
    const { signed } = seeds();
    const failures: string[] = [];
    const certificates = [f.signedKeys.body];
    for (let i = 0; i < 600; i++) {
      const failure = unexpected(`case ${i}`, () => verifyRootSignature(mutate(g, signed), g.chance(0.1) ? [] : certificates));
      if (failure) failures.push(failure);
    }
    for (let i = 0; i < 40; i++) {
      const failure = unexpected(`structural ${i}`, () => verifyRootSignature(structural(g, signed), certificates));
      if (failure) failures.push(failure);
    }
    expect(failures).toEqual([]);
  });
});

describe('HTTP endpoints', () => {
  /**
   * One generated request to an SSO or SLO endpoint, over Redirect or POST: half the time encoded
   * as its binding says, else in any of the broken encodings.
   */
  function httpCase(g: Gen, s: ReturnType<typeof seeds>): { method: 'GET' | 'POST'; url: string; body?: Record<string, string> } {
    const seed = g.pick([s.authn, s.logout, s.logoutResponse, s.signed]);
    // A fresh ID each time, so a message is not refused merely as a replay of an earlier case.
    const fresh = seed === s.signed ? seed : seed.replace(/ ID="[^"]+"/, ` ID="_fuzz${g.int(1e9)}"`);
    const xml = g.pick([() => fresh, () => mutate(g, fresh), () => mutate(g, fresh), () => structural(g, fresh), () => randomText(g)])();
    const endpoint = seed === s.authn || seed === s.signed ? (g.chance(0.8) ? f.sso : f.slo) : g.chance(0.8) ? f.slo : f.sso;
    const field = g.chance(0.8) ? (seed === s.logoutResponse ? 'SAMLResponse' : 'SAMLRequest') : g.pick(['SAMLRequest', 'SAMLResponse']);
    const relay: Record<string, string> = g.chance(0.3) ? { RelayState: g.chance(0.5) ? 'A'.repeat(24) : mutate(g, 'relay-state-value') } : {};
    const broken = () => {
      const encoded = encodings(g, xml);
      return typeof encoded === 'string' ? encoded : String(encoded);
    };
    if (g.chance(0.5)) {
      return { method: 'POST', url: endpoint, body: { [field]: g.chance(0.5) ? Buffer.from(xml).toString('base64') : broken(), ...relay } };
    }
    if (g.chance(0.2)) return { method: 'GET', url: `${endpoint}?${signedRedirectQuery(xml, f.signedKeys, relay.RelayState).replace(/^SAMLRequest=/, `${field}=`)}` };
    if (g.chance(0.1)) return { method: 'GET', url: `${endpoint}?${mutate(g, redirectQuery(xml))}` };
    const encoded = g.chance(0.5) ? deflateRawSync(Buffer.from(xml)).toString('base64') : broken();
    return { method: 'GET', url: `${endpoint}?${new URLSearchParams({ [field]: encoded, ...relay })}` };
  }

  it('answers 400 generated requests with a 4xx page or a genuine protocol step, never a server error, and keeps serving', async () => {
    const g = generator(5);
    const s = seeds();
    const odd: string[] = [];
    const seen = { refused: 0, accepted: 0 };
    const cases = Array.from({ length: 400 }, () => httpCase(g, s));
    for (let i = 0; i < cases.length; i += 8) {
      await Promise.all(cases.slice(i, i + 8).map(async (c, j) => {
        const agent = createAgent();
        const page = c.method === 'GET' ? await agent.get(c.url) : await agent.postForm(c.url, c.body!);
        // Node itself answers 414/431 to a URL longer than its header limit, before Caregate sees it.
        const tooLong = page.status === 414 || page.status === 431;
        const refused = tooLong || (page.status >= 400 && page.status < 500 && page.html.includes('role="alert"') && !/at .*\.(ts|js):\d+/.test(page.html));
        // Accepted: on to the sign-in (/auth), or a logout answer sent to the SP by Redirect or POST.
        const step = (page.status === 303 && /\/t\/demo\/auth\?|^https:\/\/open\.example\//.test(page.location ?? '')) || (page.status === 200 && page.html.includes('data-autopost'));
        seen[step ? 'accepted' : 'refused'] += 1;
        if (!refused && !step) odd.push(`case ${i + j} ${c.method} ${c.url.slice(0, 120)}: ${page.status} ${page.location ?? page.html.slice(0, 200)}`);
      }));
    }
    expect(odd).toEqual([]);
    // The mutations are mild enough that some messages still get through (and exercise what follows).
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(seen.accepted);

    expect((await fetch(`${f.cg.baseUrl}/health`)).status).toBe(200);
    const agent = createAgent();
    const { page } = await throughSignIn(agent, await agent.get(`${f.sso}?${redirectQuery(authnRequestXml({ issuer: OPEN.entityId, destination: f.sso, acsUrl: OPEN.acs }))}`), 'dana', PASSWORD);
    expect(postedForm(page).action).toBe(OPEN.acs);
  });

  it('answers 200 made-up IdP-initiated and continue requests with a 4xx page', async () => {
    const g = generator(6);
    const odd: string[] = [];
    for (let i = 0; i < 200; i++) {
      const junk = mutate(g, g.pick([OPEN.entityId, SIGNED.entityId, 'A'.repeat(32), 'state']));
      const url = g.chance(0.5) ? `${f.cg.issuer()}/saml/init?${new URLSearchParams({ sp: junk, RelayState: mutate(g, 'x'.repeat(g.int(120))) })}` : `${f.cg.issuer()}/saml/continue?${new URLSearchParams({ state: junk, code: mutate(g, 'code'), ...(g.chance(0.3) ? { error: junk } : {}) })}`;
      const page = await createAgent().get(url);
      const fine = (page.status >= 400 && page.status < 500) || (page.status === 303 && page.location?.startsWith(`${f.cg.issuer()}/auth?`));
      if (!fine) odd.push(`case ${i} ${url.slice(0, 160)}: ${page.status}`);
    }
    expect(odd).toEqual([]);
  });
});
