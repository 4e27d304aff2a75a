// The README is part of the product: its configuration table, claim reference, SAML settings
// table and federation connection settings tables must match the code that defines them.
import { readFileSync } from 'node:fs';
import { renderConfigTable } from '../../src/config/index.ts';
import { SCOPE_CLAIMS } from '../../src/oidc/index.ts';
import { samlSettingsSchema } from '../../src/saml/index.ts';
import { oidcSettings, samlSettings } from '../../src/federation/connection-settings.ts';
import { sourceRequest } from '../../src/directory/source-settings.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('carries the configuration table generated from the settings declaration', () => {
    const section = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(readme)?.[1];
    expect(section).toBe(renderConfigTable());
  });

  it('documents every claim with the scope that requests it', () => {
    for (const [scope, claims] of Object.entries(SCOPE_CLAIMS)) {
      for (const claim of claims) expect(readme).toMatch(new RegExp(`\\| \`${claim}\` \\| \`${scope}\` \\|`));
    }
  });

  it('lists every SAML service provider setting, in schema order, with its default', () => {
    // Defaults are what the schema fills in around the two required fields.
    const required = { entityId: 'urn:example:sp', acs: [{ url: 'https://sp.example/acs', index: 0 }] };
    const filled: Record<string, unknown> = samlSettingsSchema.parse(required);
    const expected = Object.keys(samlSettingsSchema.shape).map((field) => {
      const value = filled[field];
      return [field, field in required ? 'required' : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``];
    });
    const section = /### Registering a service provider\n([\s\S]*?)\n### /.exec(readme)?.[1] ?? '';
    const rows = [...section.matchAll(/^\| `(\w+)` \| ([^|]+?) \|/gm)].map(([, field, def]) => [field, def]);
    expect(rows).toEqual(expected);
  });

  it('lists every federation connection setting, shared ones first, then OIDC, then SAML, with its default', () => {
    // Defaults are what each schema fills in around its required fields; a setting without a default shows —.
    const oidcRequired = { key: 'northwell', name: 'Northwell', type: 'oidc', issuer: 'https://northwell.okta.example', clientId: 'caregate' };
    const samlRequired = { key: 'stlukes', name: "St Luke's", type: 'saml', idpEntityId: 'https://idp.stlukes.example', ssoUrl: 'https://idp.stlukes.example/sso', idpCertificates: [`MII${'A'.repeat(200)}`] };
    const rowsOf = (schema: typeof oidcSettings | typeof samlSettings, required: Record<string, unknown>) => {
      const filled: Record<string, unknown> = schema.parse(required);
      return Object.keys(schema.shape).map((field) => {
        const value = filled[field];
        const shown = field in required ? 'required' : value === undefined ? '—' : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
        return [field, shown];
      });
    };
    const oidc = rowsOf(oidcSettings, oidcRequired);
    const saml = rowsOf(samlSettings, samlRequired);
    // Both schemas start with the same settings (key … type); each protocol's own follow.
    const shared = oidc.findIndex(([field], i) => field !== saml[i]?.[0]);
    expect(shared).toBeGreaterThan(0);
    const expected = [...oidc, ...saml.slice(shared)];
    const section = /### Connection settings\n([\s\S]*?)\n### /.exec(readme)?.[1] ?? '';
    const rows = [...section.matchAll(/^\| `(\w+)` \| ([^|]+?) \|/gm)].map(([, field, def]) => [field, def]);
    expect(rows).toEqual(expected);
  });

  it('lists every directory source setting, in schema order, with its default', () => {
    const required = { key: 'corp', name: 'Corp', preset: 'active-directory', urls: ['ldaps://dc1.corp.example'], bindDn: 'CN=svc,DC=corp,DC=example', baseDn: 'DC=corp,DC=example' };
    const filled: Record<string, unknown> = sourceRequest.parse(required);
    const expected = Object.keys(sourceRequest.shape).map((field) => {
      const value = filled[field];
      return [field, field in required ? 'required' : value === undefined ? '—' : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``];
    });
    const section = /### Source settings\n([\s\S]*?)\n### /.exec(readme)?.[1] ?? '';
    const rows = [...section.matchAll(/^\| `(\w+)` \| ([^|]+?) \|/gm)].map(([, field, def]) => [field, def]);
    expect(rows).toEqual(expected);
  });

  it('gives a newcomer the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
