// The README is part of the product: its configuration table, claim reference and SAML settings
// table must match the code that defines them.
import { readFileSync } from 'node:fs';
import { renderConfigTable } from '../../src/config/index.ts';
import { SCOPE_CLAIMS } from '../../src/oidc/index.ts';
import { samlSettingsSchema } from '../../src/saml/settings.ts';

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

  it('gives a newcomer the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
