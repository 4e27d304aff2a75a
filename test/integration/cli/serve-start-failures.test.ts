// `caregate serve` with one wrong setting, as an operator would run it: the process exits non-zero
// and its last line names the setting and what to check — never a bare ECONNREFUSED or EADDRINUSE —
// and nothing it prints carries a password from a URL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../../support/caregate.ts';
import { serveUntilExit, spawnCaregate } from '../../support/caregate-process.ts';
import { cliRunner } from '../../support/cli-runner.ts';
import { startPrivateRedis, type PrivateRedis } from '../../support/redis-server.ts';
import { freshDatabaseUrl, tempDataDir, type FreshDatabase } from '../../support/stores.ts';

const PASSWORD = 'pw-that-must-never-be-printed';
const KEY = randomBytes(32).toString('base64');
const cleanups: Array<() => Promise<unknown>> = [];

/** `caregate serve` with exactly `env` (nothing inherited from this suite's stores); its exit code and its last stderr line. */
async function serve(env: Record<string, string>) {
  // No metrics listener: its fixed default port would be one more thing in use.
  const run = await serveUntilExit({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', PORT: '0', CAREGATE_METRICS_PORT: 'off', ...env });
  const lines = run.stderr.trim().split('\n');
  return { code: run.code, message: lines[lines.length - 1] ?? '', printed: run.stdout + run.stderr };
}

/** A process that answers PostgreSQL's start-up message the way a server does when it refuses: with `sqlstate`, after asking for the password. */
async function refusingPostgres(sqlstate: string, message: string): Promise<number> {
  const packet = (type: string, body: Buffer) => {
    const head = Buffer.alloc(5);
    head.write(type);
    head.writeUInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
  };
  const field = (type: string, value: string) => Buffer.from(`${type}${value}\0`);
  const error = packet('E', Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', sqlstate), field('M', message), Buffer.from('\0')]));
  const askPassword = packet('R', Buffer.from([0, 0, 0, 3]));
  const server: Server = createServer((socket: Socket) => {
    let startup = true;
    socket.on('data', () => {
      // The start-up message, then (for a password failure) the password message.
      if (startup && sqlstate === '28P01') socket.write(askPassword);
      else socket.end(error);
      startup = false;
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return (server.address() as { port: number }).port;
}

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error('cleanup failed', error));
});

describe('PostgreSQL (DATABASE_URL)', () => {
  const url = (port: number, database = 'caregate') => `postgres://caregate:${PASSWORD}@127.0.0.1:${port}/${database}`;

  it('names the setting and the address when nothing listens there', async () => {
    const port = await freePort();
    const out = await serve({ DATABASE_URL: url(port), CAREGATE_MASTER_KEY: KEY });
    expect(out.code).toBe(1);
    expect(out.message).toBe(`caregate: Cannot reach PostgreSQL at 127.0.0.1:${port} (DATABASE_URL): connection refused — is the server running, and are the host and port in the URL right?`);
    expect(out.printed).not.toContain(PASSWORD);
  });

  it('names the host when it does not resolve', async () => {
    const out = await serve({ DATABASE_URL: `postgres://caregate:${PASSWORD}@no-such-host.invalid/caregate`, CAREGATE_MASTER_KEY: KEY });
    expect(out.code).toBe(1);
    expect(out.message).toContain('Cannot reach PostgreSQL at no-such-host.invalid:5432 (DATABASE_URL): the host name "no-such-host.invalid" does not resolve');
    expect(out.printed).not.toContain(PASSWORD);
  });

  it('says the password was refused, without printing it', async () => {
    const port = await refusingPostgres('28P01', 'password authentication failed for user "caregate"');
    const out = await serve({ DATABASE_URL: url(port), CAREGATE_MASTER_KEY: KEY });
    expect(out.code).toBe(1);
    expect(out.message).toBe(`caregate: PostgreSQL at 127.0.0.1:${port} refused the connection (DATABASE_URL): password authentication failed for user "caregate" — check the user name and password in the URL`);
    expect(out.printed).not.toContain(PASSWORD);
  });

  it('says which database is missing and how to create it', async () => {
    const port = await refusingPostgres('3D000', 'database "clinic" does not exist');
    const out = await serve({ DATABASE_URL: url(port, 'clinic'), CAREGATE_MASTER_KEY: KEY });
    expect(out.code).toBe(1);
    expect(out.message).toBe(`caregate: PostgreSQL at 127.0.0.1:${port} refused the connection (DATABASE_URL): database "clinic" does not exist — create it (createdb clinic) or fix the database name in the URL`);
  });

  (process.env.DATABASE_URL ? it : it.skip)('says which database is missing on a real server', async () => {
    const real = new URL(process.env.DATABASE_URL!);
    real.pathname = `/caregate_missing_${randomBytes(4).toString('hex')}`;
    const out = await serve({ DATABASE_URL: real.href, CAREGATE_MASTER_KEY: KEY });
    expect(out.code).toBe(1);
    expect(out.message).toMatch(/\(DATABASE_URL\): database "caregate_missing_[0-9a-f]+" does not exist — create it/);
  });
});

describe('Redis (REDIS_URL)', () => {
  let redis: PrivateRedis;
  let env: Record<string, string>;
  // Redis is checked once the database is open: a working one, with the suite's store.
  const withRedis = (url: string) => serve({ ...env, REDIS_URL: url });

  beforeAll(async () => {
    redis = await startPrivateRedis(10_000, { password: PASSWORD });
    const dir = await tempDataDir();
    const db = await freshDatabaseUrl();
    cleanups.push(() => redis.stop(), () => dir.cleanup(), async () => db?.drop());
    env = cliRunner({ dataDir: dir.path, db, user: 'operator' }).env;
  });

  it('names the setting and the address when nothing listens there', async () => {
    const port = await freePort();
    const out = await withRedis(`redis://:${PASSWORD}@127.0.0.1:${port}/0`);
    expect(out.code).toBe(1);
    expect(out.message).toBe(`caregate: Cannot reach Redis at 127.0.0.1:${port} (REDIS_URL): connection refused — is the server running, and are the host and port in the URL right?`);
    expect(out.printed).not.toContain(PASSWORD);
  });

  it('says the server wants a password when the URL has none', async () => {
    const out = await withRedis(`redis://127.0.0.1:${redis.port}/0`);
    expect(out.code).toBe(1);
    expect(out.message).toContain(`Redis at 127.0.0.1:${redis.port} refused the connection (REDIS_URL): it requires a password — put it in the URL`);
  });

  it('says the password is wrong, without printing it', async () => {
    const wrong = 'wrong-redis-password-not-to-print';
    const out = await withRedis(`redis://:${wrong}@127.0.0.1:${redis.port}/0`);
    expect(out.code).toBe(1);
    expect(out.message).toBe(`caregate: Redis at 127.0.0.1:${redis.port} refused the connection (REDIS_URL): the user name or password is wrong — check the credentials in the URL`);
    expect(out.printed).not.toContain(wrong);
  });

  it('refuses a database number the server does not have, rather than quietly using database 0', async () => {
    const out = await withRedis(`redis://:${PASSWORD}@127.0.0.1:${redis.port}/99`);
    expect(out.code).toBe(1);
    expect(out.message).toContain(`(REDIS_URL): it has no database 99 — use a database number the server has`);
    expect(out.printed).not.toContain(PASSWORD);
  });
});

describe('the port and address (PORT, CAREGATE_HOST)', () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    const dir = await tempDataDir();
    const db = await freshDatabaseUrl();
    cleanups.push(() => dir.cleanup(), async () => db?.drop());
    env = cliRunner({ dataDir: dir.path, db, user: 'operator' }).env;
  });

  it('names PORT when another process listens on it', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
    const port = (taken.address() as { port: number }).port;
    const out = await serve({ ...env, PORT: String(port), CAREGATE_HOST: '127.0.0.1' });
    expect(out.code).toBe(1);
    expect(out.message).toBe(`caregate: PORT ${port} is already in use on 127.0.0.1: stop what listens there, or set PORT to a free port`);
  }, 120_000);

  it('names CAREGATE_HOST when it is not an address of this machine', async () => {
    const out = await serve({ ...env, CAREGATE_HOST: '192.0.2.1' });
    expect(out.code).toBe(1);
    expect(out.message).toBe('caregate: CAREGATE_HOST 192.0.2.1 is not an address of this machine: set it to one of its addresses, or 0.0.0.0 for all');
  }, 120_000);
});

describe('the data directory (CAREGATE_DATA_DIR)', () => {
  it('names the setting when the directory cannot be created', async () => {
    const dir = await tempDataDir();
    cleanups.push(() => dir.cleanup());
    // A path below a regular file: no user, root included, can make a directory there.
    writeFileSync(join(dir.path, 'a-file'), '');
    const out = await serve({ CAREGATE_DATA_DIR: join(dir.path, 'a-file', 'data') });
    expect(out.code).toBe(1);
    expect(out.message).toContain(`caregate: CAREGATE_DATA_DIR ${join(dir.path, 'a-file', 'data')} is not a writable directory: a part of the path is a file, not a directory — create it`);
  });

  it('says the generated master key file is damaged and that the backup is needed', async () => {
    const dir = await tempDataDir();
    cleanups.push(() => dir.cleanup());
    writeFileSync(join(dir.path, 'master.key'), 'not a key\n');
    const out = await serve({ CAREGATE_DATA_DIR: dir.path });
    expect(out.code).toBe(1);
    expect(out.message).toContain(`The master key file ${join(dir.path, 'master.key')} does not hold a 32-byte base64 key (CAREGATE_DATA_DIR): restore it from your backup`);
  });
});

describe('the master key (CAREGATE_MASTER_KEY)', () => {
  it('names the setting and how to make one when it is not 32 bytes of base64', async () => {
    const out = await serve({ DATABASE_URL: `postgres://caregate:${PASSWORD}@127.0.0.1:5432/caregate`, CAREGATE_MASTER_KEY: Buffer.alloc(16).toString('base64') });
    expect(out.code).toBe(1);
    expect(out.message).toBe('caregate: Invalid configuration — CAREGATE_MASTER_KEY: must be 32 bytes, base64-encoded (generate one with: openssl rand -base64 32)');
    expect(out.printed).not.toContain(PASSWORD);
  });

  it('refuses to start with a key that does not open the signing keys the database holds', async () => {
    const dir = await tempDataDir();
    const db: FreshDatabase | undefined = await freshDatabaseUrl();
    cleanups.push(() => dir.cleanup(), async () => db?.drop());
    const env = cliRunner({ dataDir: dir.path, db, user: 'operator' }).env;
    // A first start with the right key, and a JWKS request, leave sealed signing keys behind.
    const first = await spawnCaregate(await freePort(), env, 120_000);
    try {
      expect((await fetch(`${first.url}/t/demo/jwks`)).status).toBe(200);
    } finally {
      await first.stop();
    }
    const otherKey = randomBytes(32).toString('base64');
    if (db) env.CAREGATE_MASTER_KEY = otherKey;
    else writeFileSync(join(dir.path, 'master.key'), `${otherKey}\n`);
    const out = await serve(env);
    expect(out.code).toBe(1);
    const source = db ? 'CAREGATE_MASTER_KEY' : `${dir.path}/master.key`;
    expect(out.message).toBe(`caregate: The master key (${source}) cannot decrypt the signing keys in this database: it is not the key the database was set up with — restore that key from your backup (a new key cannot read what the old one encrypted)`);
  }, 180_000);
});
