// compose.yaml as far as this machine (no Docker daemon) can check it: the services and their
// health checks, that every variable set on a Caregate node is a setting Caregate reads and that
// the nodes' environment, filled from deploy/compose.env.example, is a valid configuration; that
// nginx's upstreams are exactly the two nodes on their port, and that mounted files exist.
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig, settings } from '../../../src/config/index.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const compose = parse(readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, any> };
const NODES = ['caregate-1', 'caregate-2'];
const example = Object.fromEntries(readFileSync(path.join(ROOT, 'deploy/compose.env.example'), 'utf8').split('\n').filter((l) => /^\w+=/.test(l)).map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op?: string, arg?: string) => {
    if (vars[name]) return vars[name]!;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? arg! : '';
  });
}

describe('compose.yaml', () => {
  it('runs two Caregate nodes, nginx, PostgreSQL and Redis, each store with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['caregate-1', 'caregate-2', 'nginx', 'postgres', 'redis']);
    for (const store of ['postgres', 'redis']) expect(compose.services[store].healthcheck.test).toBeDefined();
    for (const node of NODES) {
      expect(compose.services[node].build).toBe('.');
      // Only nginx reaches a node: with CAREGATE_TRUST_PROXY a published port would let clients forge X-Forwarded-For.
      expect(compose.services[node].ports).toBeUndefined();
    }
    expect(compose.services['caregate-1'].depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    expect(compose.services['caregate-2'].depends_on).toEqual({ 'caregate-1': { condition: 'service_healthy' } });
    expect(compose.services.nginx.depends_on).toEqual({ 'caregate-1': { condition: 'service_healthy' }, 'caregate-2': { condition: 'service_healthy' } });
  });

  it('sets on the nodes only settings Caregate reads, and they make a valid configuration behind a proxy', () => {
    const known = new Set(Object.values(settings).map((s) => s.env));
    const vars = { ...example, CAREGATE_MASTER_KEY: randomBytes(32).toString('base64'), POSTGRES_PASSWORD: randomBytes(24).toString('hex'), REDIS_PASSWORD: randomBytes(24).toString('hex') };
    for (const node of NODES) {
      const env: Record<string, string> = compose.services[node].environment;
      expect(Object.keys(env).filter((name) => !known.has(name))).toEqual([]);
      const filled = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(String(v), vars)]));
      const config = loadConfig(filled);
      expect(config.trustProxy).toBe(true);
      expect(config.masterKey).toBe(vars.CAREGATE_MASTER_KEY);
      const db = new URL(config.databaseUrl!);
      expect([db.hostname, db.port, db.username, db.pathname, db.password]).toEqual(['postgres', '5432', compose.services.postgres.environment.POSTGRES_USER, `/${compose.services.postgres.environment.POSTGRES_DB}`, vars.POSTGRES_PASSWORD]);
      const redis = new URL(config.redisUrl!);
      expect([redis.hostname, redis.password]).toEqual(['redis', vars.REDIS_PASSWORD]);
    }
    // Without the secrets compose refuses to start, naming the missing one.
    expect(() => interpolate(String(compose.services['caregate-1'].environment.CAREGATE_MASTER_KEY), example)).toThrow(/CAREGATE_MASTER_KEY/);
  });

  it('lists every variable it interpolates in deploy/compose.env.example', () => {
    const used = [...readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8').matchAll(/\$\{(\w+)/g)].map((m) => m[1]!);
    expect([...new Set(used)].filter((name) => !(name in example))).toEqual([]);
  });

  it('mounts files that exist, and nginx sends requests to both nodes on their port', () => {
    const mounts = Object.values(compose.services).flatMap((s: any) => (s.volumes ?? []).map((v: string) => v.split(':')[0]!).filter((v: string) => v.startsWith('./')));
    expect(mounts.length).toBeGreaterThan(0);
    expect(mounts.filter((m: string) => !existsSync(path.join(ROOT, m)))).toEqual([]);
    const conf = readFileSync(path.join(ROOT, 'deploy/nginx/caregate.conf'), 'utf8');
    const port = compose.services['caregate-1'].environment.PORT;
    expect([...conf.matchAll(/^\s*server\s+([\w.-]+:\d+)/gm)].map((m) => m[1])).toEqual(NODES.map((n) => `${n}:${port}`));
    expect(conf).toMatch(/proxy_pass http:\/\/caregate;/);
    // Caregate reads the first X-Forwarded-For address: nginx must set it, not append to the client's.
    expect(conf).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(conf).toMatch(/proxy_set_header X-Forwarded-Proto /);
  });
});
