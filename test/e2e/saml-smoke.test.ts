import { SAML } from '@node-saml/node-saml';
import { startTestCaregate, type TestCaregate } from '../support/caregate.ts';
import { createAgent, formOf, signIn } from '../support/browser-agent.ts';

const PASSWORD = 'first-long-password-of-tests';
const cli = { type: 'cli' as const, id: 'test' };
const ACS = 'https://sp.example/acs';
const ENTITY = 'https://sp.example/metadata';
let cg: TestCaregate;

beforeAll(async () => {
  cg = await startTestCaregate();
  const a = cg.runtime.accounts;
  await a.applications.create('demo', { name: 'SP', saml: { entityId: ENTITY, acs: [{ url: ACS, index: 0, isDefault: true }] } } as never, cli);
  await a.users.create('demo', { username: 'alice', email: 'alice@clinic.example', displayName: 'Alice', password: PASSWORD }, [{ role: 'report_viewer' }], cli);
});
afterAll(async () => cg?.close());

test('sp-initiated redirect', async () => {
  const metadata = await (await fetch(`${cg.issuer()}/saml/metadata`)).text();
  const cert = /<ds:X509Certificate>([^<]+)</.exec(metadata)![1]!;
  const sp = new SAML({ callbackUrl: ACS, entryPoint: `${cg.issuer()}/saml/sso`, issuer: ENTITY, idpCert: cert, audience: ENTITY, wantAssertionsSigned: true, wantAuthnResponseSigned: true, identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' });
  const url = await sp.getAuthorizeUrlAsync('rs-1', undefined, {});
  const agent = createAgent();
  const page = await signIn(agent, url, 'alice', PASSWORD, ACS);
  const form = formOf(page);
  expect(form.action).toBe(ACS);
  const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: form.fields.SAMLResponse! });
  console.log(profile);
});
