// The metrics listener's guards and start-up, each case on a server of its own (one at a time: in
// embedded mode servers of one process share PGlite): a bearer token when CAREGATE_METRICS_TOKEN is
// set, a start that stops naming CAREGATE_METRICS_PORT when the port is taken, and no listener at
// all with `off`.
import { describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { startTestCaregate } from '../../support/caregate.ts';

const TOKEN = 'metrics-token-of-the-tests-0123456789';

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe('with CAREGATE_METRICS_TOKEN', () => {
  it('answers 401 with a Bearer challenge without the token, with a wrong one or one in another form, and the metrics with it', async () => {
    const guarded = await startTestCaregate({ overrides: { metricsToken: TOKEN } });
    try {
      const attempts: Array<Record<string, string>> = [
        {}, { authorization: 'Bearer ' }, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `bearer${TOKEN}` },
        { authorization: `Basic ${Buffer.from(`metrics:${TOKEN}`).toString('base64')}` }, { authorization: TOKEN }, { cookie: `token=${TOKEN}` },
      ];
      for (const headers of attempts) {
        const refused = await scrape(guarded.metricsUrl!, headers);
        expect([headers, refused.status]).toEqual([headers, 401]);
        expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="caregate-metrics"');
        expect(refused.text).not.toContain('caregate_');
      }
      const allowed = await scrape(guarded.metricsUrl!, { authorization: `Bearer ${TOKEN}` });
      expect(allowed.status).toBe(200);
      expect(allowed.text).toContain('caregate_store_up');
      // The token opens the metrics listener only: the public port still has no /metrics.
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    } finally {
      await guarded.close();
    }
  });
});

describe('start-up', () => {
  it('stops naming CAREGATE_METRICS_PORT when the port is taken', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const taken = (holder.address() as { port: number }).port;
    try {
      await expect(startTestCaregate({ overrides: { metricsPort: taken } })).rejects.toThrow(`CAREGATE_METRICS_PORT ${taken} is already in use on 127.0.0.1`);
    } finally {
      holder.close();
    }
  });

  it('runs no metrics listener with CAREGATE_METRICS_PORT=off', async () => {
    const quiet = await startTestCaregate({ overrides: { metricsPort: 'off' } });
    try {
      expect(quiet.metricsUrl).toBeUndefined();
      expect((await fetch(`${quiet.url}/metrics`)).status).toBe(404);
    } finally {
      await quiet.close();
    }
  });
});
