// A real `caregate serve` hands memory back once traffic is quiet: it runs with V8's
// memory-reducing collection offered (src/v8-flags.ts), collects after a burst once its event loop
// has been quiet for 5 s, and says so in its metrics and its log. With the setting at 0 it does not.
// (When exactly, and how often, is src/observability/idle-collection.test.ts.)
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnCaregate, type CaregateProcess } from '../../support/caregate-process.ts';
import { freePort } from '../../support/free-port.ts';
import { tempDataDir, type TempDataDir } from '../../support/stores.ts';

const started: Array<{ server?: CaregateProcess; dir: TempDataDir }> = [];
afterEach(async () => {
  for (const { server, dir } of started.splice(0)) {
    await server?.stop();
    await dir.cleanup();
  }
});

async function serve(env: Record<string, string>): Promise<{ server: CaregateProcess; metrics: string }> {
  const dir = await tempDataDir();
  const entry: { server?: CaregateProcess; dir: TempDataDir } = { dir };
  started.push(entry);
  const metricsPort = await freePort();
  entry.server = await spawnCaregate(await freePort(), { CAREGATE_DATA_DIR: dir.path, CAREGATE_METRICS_PORT: String(metricsPort), CAREGATE_LOG_LEVEL: 'info', ...env });
  return { server: entry.server, metrics: `http://127.0.0.1:${metricsPort}/metrics` };
}

/** A counter's value in a Prometheus text exposition (0 when absent). */
const counter = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

/** Some traffic that leaves garbage behind: discovery documents and JWKS, a few hundred times. */
async function burst(url: string) {
  for (let i = 0; i < 20; i++) {
    await Promise.all(Array.from({ length: 20 }, (_, j) => fetch(`${url}/t/demo/${j % 2 ? 'jwks' : '.well-known/openid-configuration'}`).then((r) => r.arrayBuffer())));
  }
}

describe('a quiet server after a burst', () => {
  it('collects once its memory grew by CAREGATE_IDLE_COLLECT_MB, counts it in its metrics and logs what went back', async () => {
    const { server, metrics } = await serve({ CAREGATE_IDLE_COLLECT_MB: '1' });
    await burst(server.url);
    // Quiet from here: the collection comes about 5 s later. Waited for, not timed.
    let text = '';
    while (counter(text, 'caregate_idle_collections_total') < 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      text = await (await fetch(metrics)).text();
    }
    expect(counter(text, 'caregate_idle_collections_total')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^caregate_idle_collection_returned_bytes_total \d/m);
    const logged = server.output().split('\n').filter((line) => line.includes('memory returned while quiet')).map((line) => JSON.parse(line));
    expect(logged[0]).toMatchObject({ level: 'info', residentMbBefore: expect.any(Number), residentMbAfter: expect.any(Number), pauseMs: expect.any(Number) });
  });

  it('never collects with CAREGATE_IDLE_COLLECT_MB=0', async () => {
    const { server, metrics } = await serve({ CAREGATE_IDLE_COLLECT_MB: '0' });
    const other = await serve({ CAREGATE_IDLE_COLLECT_MB: '1' });
    await burst(server.url);
    await burst(other.server.url);
    // The server set to 1 MB collects; by then the one set to 0, as quiet for as long, has not.
    while (counter(await (await fetch(other.metrics)).text(), 'caregate_idle_collections_total') < 1) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(counter(await (await fetch(metrics)).text(), 'caregate_idle_collections_total')).toBe(0);
    expect(server.output()).not.toContain('memory returned while quiet');
  });
});
