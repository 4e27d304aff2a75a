// What the SAML integration suites run against: one Caregate with three service providers — Open
// (may send unsigned requests), Signed (must sign; its certificate registered) and Bare (no
// certificate at all) — a user, and the check every refused message must pass.
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import type { Agent, Page } from '../../support/browser-agent.ts';
import { auditOf, cli } from '../../support/saml-sp.ts';
import { selfSignedCertificate, type SelfSignedCertificate } from '../../support/self-signed-certificate.ts';

export const PASSWORD = 'third-long-password-of-tests';
export const OPEN = { entityId: 'https://open.example/saml', acs: 'https://open.example/saml/acs', slo: 'https://open.example/saml/slo' };
export const SIGNED = { entityId: 'https://signed.example/saml', acs: 'https://signed.example/saml/acs' };
export const BARE = { entityId: 'https://bare.example/saml', acs: 'https://bare.example/saml/acs' };

export interface SamlFixture {
  cg: TestCaregate;
  /** Signed's registered key pair, and a key pair Caregate has never seen. */
  signedKeys: SelfSignedCertificate;
  strangerKeys: SelfSignedCertificate;
  sso: string;
  slo: string;
}

export async function startSamlFixture(): Promise<SamlFixture> {
  const cg = await startTestCaregate();
  const [signedKeys, strangerKeys] = await Promise.all([selfSignedCertificate('signed-sp'), selfSignedCertificate('stranger')]);
  const a = cg.runtime.accounts;
  await a.applications.create('demo', { name: 'Open', saml: { entityId: OPEN.entityId, acs: [{ url: OPEN.acs, index: 0, isDefault: true }, { url: 'https://open.example/saml/acs-2', index: 1 }], slo: { url: OPEN.slo, binding: 'redirect' } } }, cli);
  await a.applications.create('demo', { name: 'Signed', saml: { entityId: SIGNED.entityId, acs: [{ url: SIGNED.acs, index: 0 }], signingCertificates: [signedKeys.cert], requireSignedRequests: true } }, cli);
  await a.applications.create('demo', { name: 'Bare', saml: { entityId: BARE.entityId, acs: [{ url: BARE.acs, index: 0 }] } }, cli);
  await a.users.create('demo', { username: 'dana', email: 'dana@clinic.example', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
  return { cg, signedKeys, strangerKeys, sso: `${cg.issuer()}/saml/sso`, slo: `${cg.issuer()}/saml/slo` };
}

/**
 * Sends a message that must be refused: a 4xx HTML page saying why (no stack trace, no redirect),
 * exactly one audit event with the reason, and nothing begun or granted — no sign-in recorded or
 * answered, no cookie added (so no sign-in under way and no new session).
 */
export async function expectRefusal(cg: TestCaregate, agent: Agent, send: () => Promise<Page>, reason: string, { status = 400, action = 'saml.sso_rejected' } = {}): Promise<Page> {
  const count = async () => Promise.all([action, 'saml.authn_request', 'saml.sso'].map(async (a) => (await auditOf(cg, a)).length));
  const [refusals, requests, answers] = await count();
  const cookies = new Set(agent.jar.keys());
  const page = await send();
  expect({ status: page.status, location: page.location }).toEqual({ status, location: undefined });
  expect(page.html).toMatch(/^<!doctype html>/i);
  expect(page.html).toContain('role="alert"');
  expect(page.html).not.toMatch(/at .*\.(ts|js):\d+|Error:|stack/);
  expect([...agent.jar.keys()].filter((k) => !cookies.has(k))).toEqual([]);
  expect(await count()).toEqual([refusals! + 1, requests, answers]);
  expect((await auditOf(cg, action)).at(-1)).toMatchObject({ outcome: 'failure', details: expect.objectContaining({ reason }) });
  return page;
}
