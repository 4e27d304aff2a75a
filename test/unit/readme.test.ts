// The README is part of the product: its configuration table and claim reference must match the
// code that defines them.
import { readFileSync } from 'node:fs';
import { renderConfigTable } from '../../src/config/index.ts';
import { SCOPE_CLAIMS } from '../../src/oidc/index.ts';

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

  it('gives a newcomer the two commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
