// Where a request id comes from: Caregate makes one (a UUID) unless a trusted proxy
// (CAREGATE_TRUST_PROXY) sends X-Request-Id, and then only one that cannot break a log line or
// flood it. A client cannot choose the id its requests are logged and audited under. Each case
// runs its own server, one at a time (in embedded mode the servers of one process share PGlite).
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '../../../src/logger.ts';
import { startTestCaregate } from '../../support/caregate.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function requestIdFor(url: string, offered?: string) {
  const res = await fetch(url, { headers: offered === undefined ? {} : { 'x-request-id': offered } });
  await res.arrayBuffer();
  return res.headers.get('x-request-id');
}

describe('without a trusted proxy (the default)', () => {
  it("makes a new id for every request, whatever X-Request-Id the client sends, on every kind of route", async () => {
    const logged: string[] = [];
    const cg = await startTestCaregate({ log: createLogger('info', (line) => logged.push(line)), overrides: { logLevel: 'info' } });
    try {
      const urls = [`${cg.url}/health/live`, `${cg.issuer()}/.well-known/openid-configuration`, `${cg.issuer()}/token`, `${cg.baseUrl}/admin/api/v1/t/demo/users`, `${cg.baseUrl}/nowhere`];
      const ids: string[] = [];
      for (const url of urls) {
        const id = await requestIdFor(url, 'chosen-by-the-client-0001');
        expect([url, id]).toEqual([url, expect.stringMatching(UUID)]);
        ids.push(id!);
      }
      expect(new Set(ids).size).toBe(ids.length);
      expect(logged.join('\n')).not.toContain('chosen-by-the-client');
    } finally {
      await cg.close();
    }
  });
});

describe('behind a trusted proxy', () => {
  it("takes the proxy's id when it is 8–128 safe characters, and makes its own for anything else", async () => {
    const logged: string[] = [];
    const cg = await startTestCaregate({ log: createLogger('info', (line) => logged.push(line)), overrides: { logLevel: 'info', trustProxy: true } });
    try {
      const url = `${cg.issuer()}/.well-known/openid-configuration`;
      for (const good of ['Root=1-67891233-abcdef012345678912345678', '0f0e0d0c-aaaa-4bbb-8ccc-123456789abc', 'a'.repeat(128)]) {
        expect(await requestIdFor(url, good)).toBe(good);
      }
      const bad = ['short', 'a'.repeat(129), 'id with spaces 1234', 'id"},{"level":"error"', '<script>alert(1)</script>', 'id\tTAB123456', ''];
      for (const offered of bad) expect([offered, await requestIdFor(url, offered)]).toEqual([offered, expect.stringMatching(UUID)]);
      expect(await requestIdFor(url)).toMatch(UUID);
      const ids = logged.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request').map((l) => l.requestId);
      // The log names the proxy's ids as given, and no refused one.
      expect(ids.filter((id) => !UUID.test(id))).toEqual(['Root=1-67891233-abcdef012345678912345678', 'a'.repeat(128)]);
    } finally {
      await cg.close();
    }
  });
});
