// The README and the reference under docs/ are part of the product: the configuration table, the
// claim reference, the SAML settings table, the federation connection settings tables and the
// directory source settings must match the code that defines them; every relative link resolves.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { renderConfigTable } from '../../src/config/index.ts';
import { SCOPE_CLAIMS } from '../../src/oidc/index.ts';
import { samlSettingsSchema } from '../../src/saml/index.ts';
import { oidcSettings, samlSettings } from '../../src/federation/connection-settings.ts';
import { sourceRequest } from '../../src/directory/source-settings.ts';

const doc = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const readme = doc('README.md');
const DOCS = readdirSync(new URL('../../docs/', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);

describe('README', () => {
  it('carries the configuration table generated from the settings declaration', () => {
    const section = /<!-- config-table:start -->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(doc('docs/configuration.md'))?.[1];
    expect(section).toBe(renderConfigTable());
  });

  it('documents every claim with the scope that requests it', () => {
    for (const [scope, claims] of Object.entries(SCOPE_CLAIMS)) {
      for (const claim of claims) expect(doc('docs/tokens-and-claims.md')).toMatch(new RegExp(`\\| \`${claim}\` \\| \`${scope}\` \\|`));
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
    const section = /## Registering a service provider\n([\s\S]*?)\n## /.exec(doc('docs/saml.md'))?.[1] ?? '';
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
    const section = /## Connection settings\n([\s\S]*?)\n## /.exec(doc('docs/federation.md'))?.[1] ?? '';
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
    const section = /## Source settings\n([\s\S]*?)\n## /.exec(doc('docs/directory.md'))?.[1] ?? '';
    const rows = [...section.matchAll(/^\| `(\w+)` \| ([^|]+?) \|/gm)].map(([, field, def]) => [field, def]);
    expect(rows).toEqual(expected);
  });

  it('gives a newcomer the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });

  it('stays a front door: under 300 lines, with the reference in docs/', () => {
    expect(readme.split('\n').length).toBeLessThan(300);
    for (const file of DOCS) expect(readme).toContain(`](${file})`);
  });

  it('has no broken relative link or anchor in the README or docs/', () => {
    // GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens.
    const anchors = (text: string) => new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map(([, h]) => h!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    const broken: string[] = [];
    for (const file of ['README.md', ...DOCS]) {
      const text = doc(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [filePart, anchor] = target!.split('#');
        const resolved = filePart ? path.posix.join(path.posix.dirname(file), filePart) : file;
        if (!existsSync(new URL(`../../${resolved}`, import.meta.url))) broken.push(`${file} → ${target}`);
        else if (anchor && resolved.endsWith('.md') && !anchors(doc(resolved)).has(anchor)) broken.push(`${file} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
