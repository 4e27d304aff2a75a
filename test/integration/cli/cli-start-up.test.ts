// What `caregate` loads before it answers, as a real process under a module recorder. Time is
// measured outside the tests (whole-process runs); these check its cause. --version, a usage error
// and a command handed to a running embedded server load only the command definitions: no store,
// server or protocol library. A command run here loads the store and the account services, but not
// the OpenID provider, passkeys, SAML or mail, which load when first used.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliRunner } from '../../support/cli-runner.ts';
import { freshDatabaseUrl, tempDataDir, testMode, type FreshDatabase, type TempDataDir } from '../../support/stores.ts';

const BIN = fileURLToPath(new URL('../../../bin/caregate.js', import.meta.url));
/** Records every module the process resolves, written to $CAREGATE_TEST_MODULES when it exits. */
const RECORDER = `data:text/javascript,${encodeURIComponent(`
  import module from 'node:module';
  import { writeFileSync } from 'node:fs';
  const urls = new Set();
  module.registerHooks({ resolve(specifier, context, next) { const resolved = next(specifier, context); urls.add(resolved.url); return resolved; } });
  process.on('exit', () => writeFileSync(process.env.CAREGATE_TEST_MODULES, [...urls].join('\\n')));
`)}`;
/** What only opening the runtime needs. */
const RUNTIME = ['typeorm', '@electric-sql/pglite', 'pg', 'ioredis', '@node-rs/argon2'];
/** What only serving needs, or a rare command when it runs. */
const ON_FIRST_USE = ['oidc-provider', 'koa', '@simplewebauthn/server', 'nodemailer', '@peculiar/x509', 'qrcode', '@node-saml/node-saml', 'xml-crypto'];

let dir: TempDataDir;
let db: FreshDatabase | undefined;

/** Runs `caregate <args>` and returns what it printed and the packages it loaded. */
function caregate(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; packages: string[] }> {
  const modules = join(dir.path, `modules-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', RECORDER, BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env, CAREGATE_TEST_MODULES: modules }, timeout: 120_000 }, (error, stdout) => {
      const urls = readFileSync(modules, 'utf8').split('\n');
      const packages = [...new Set(urls.flatMap((url) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.slice(1) ?? []))].sort();
      resolve({ code: error ? Number(error.code) : 0, stdout, packages });
    });
  });
}

beforeAll(async () => {
  dir = await tempDataDir();
  db = await freshDatabaseUrl();
});

afterAll(async () => {
  await db?.drop();
  await dir?.cleanup();
});

describe('what the command line loads before it answers', () => {
  it('--version and a usage error load the command definitions only', async () => {
    const version = await caregate(['--version'], {});
    expect(version.code).toBe(0);
    expect(version.packages).toEqual(['commander']);
    const usage = await caregate(['--json', 'user', 'list'], {});
    expect(usage.code).toBe(2);
    expect(usage.packages).toEqual(['commander']);
  });

  describe('a command handed to a running embedded server', () => {
    let server: Server;
    const hellos: any[] = [];
    const dataDir = () => join(dir.path, 'served');

    // Stands in for `caregate serve`: the socket and secret where the server keeps them, answering every command line with `[]`.
    beforeAll(async () => {
      mkdirSync(join(dataDir(), 'cli'), { recursive: true, mode: 0o700 });
      writeFileSync(join(dataDir(), 'cli', 'secret'), 'the-secret', { mode: 0o600 });
      server = createServer((socket) => {
        socket.setEncoding('utf8').once('data', (line: string) => {
          hellos.push(JSON.parse(line));
          socket.end(`${JSON.stringify({ out: '[]\n' })}\n${JSON.stringify({ exit: 0 })}\n`);
        });
      });
      await new Promise<void>((resolve) => server.listen(join(dataDir(), 'cli', 'caregate.sock'), resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('loads neither the store nor any server library, and hands over the command line with the secret', async () => {
      const out = await caregate(['--json', 'tenant', 'list'], { CAREGATE_DATA_DIR: dataDir(), USER: 'start-up-operator' });
      expect([out.code, out.stdout]).toEqual([0, '[]\n']);
      expect(hellos).toEqual([{ v: 1, secret: 'the-secret', argv: ['--json', 'tenant', 'list'], operator: 'start-up-operator', tty: false }]);
      expect(out.packages.filter((p) => [...RUNTIME, ...ON_FIRST_USE].includes(p))).toEqual([]);
    });
  });

  it(`a command run here (${testMode()} store) loads the store, but not what serving or a rare command needs`, async () => {
    const { env } = cliRunner({ dataDir: join(dir.path, 'own'), db, user: 'start-up-operator' });
    const out = await caregate(['--json', 'tenant', 'list'], env);
    expect([out.code, out.stdout]).toEqual([0, '[]\n']);
    expect(out.packages).toEqual(expect.arrayContaining(['typeorm']));
    expect(out.packages.filter((p) => ON_FIRST_USE.includes(p))).toEqual([]);
  }, 180_000);
});
