// Liveness and readiness as a load balancer and an orchestrator ask: /health/live answers while the
// process does, whatever the stores; /health/ready only while both stores answer and the schema is
// migrated; /health keeps its old answer. (A real Redis and PostgreSQL outage, through a TCP proxy,
// is played in test/integration/resilience/store-outage.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';

let cg: TestCaregate;

beforeAll(async () => {
  cg = await startTestCaregate();
});
afterAll(async () => cg?.close());

async function get(path: string) {
  const res = await fetch(`${cg.url}${path}`);
  return { status: res.status, cache: res.headers.get('cache-control'), body: (await res.json()) as Record<string, any> };
}

describe('with both stores up', () => {
  it('answers /health/live 200, asking no store', async () => {
    expect(await get('/health/live')).toEqual({ status: 200, cache: 'no-store', body: { status: 'ok' } });
  });

  it('answers /health/ready 200: both stores up, migrations done', async () => {
    const kind = cg.runtime.storage.embedded ? 'pglite' : 'postgresql';
    expect(await get('/health/ready')).toEqual({
      status: 200, cache: 'no-store',
      body: { status: 'ready', database: { kind, status: 'up' }, ephemeral: { kind: cg.runtime.ephemeral.kind, status: 'up' }, migrations: 'done' },
    });
  });

  it('keeps /health as it was', async () => {
    expect((await get('/health')).body).toEqual({ status: 'ok', database: expect.any(Object), ephemeral: expect.any(Object) });
  });
});

describe('while the database does not answer', () => {
  it('answers /health/ready 503 naming it, while /health/live stays 200', async () => {
    const { storage } = cg.runtime;
    const ping = storage.ping;
    storage.ping = () => Promise.reject(new Error('connect ECONNREFUSED'));
    try {
      const ready = await get('/health/ready');
      expect([ready.status, ready.body.status, ready.body.database.status, ready.body.ephemeral.status]).toEqual([503, 'not_ready', 'down', 'up']);
      expect((await get('/health/live')).status).toBe(200);
    } finally {
      storage.ping = ping;
    }
    expect((await get('/health/ready')).status).toBe(200);
  });
});
