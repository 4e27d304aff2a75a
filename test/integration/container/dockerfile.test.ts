// The container image without a Docker daemon: every COPY source exists and is in the build
// context (.dockerignore), and the image's start command finds its files — checked by rebuilding
// the image's /app from exactly what the Dockerfile copies (its deps stage's own RUN, offline from
// npm's cache) and starting `caregate serve` there as the image would, until its HEALTHCHECK passes
// and the pages that read views/ and console/ answer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { embeddedTemplateDir } from '../../../src/storage/index.ts';
import { freePort } from '../../support/caregate.ts';
import { clusterOf } from '../../support/pglite-cluster.ts';
import { dockerIgnore, parseDockerfile, type Copy, type Stage } from '../../support/dockerfile.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const ignored = dockerIgnore(ROOT);
const final = stages.at(-1)!;
const stageNamed = (name: string) => stages.find((s) => s.name === name);

/** Where a path of the final image's /app comes from, or undefined when no COPY puts it there. */
function copiedInto(stage: Stage, imagePath: string): Copy | undefined {
  return stage.copies.find((c) => c.sources.some((s) => {
    const target = c.dest.endsWith('/') && !c.sources.some((x) => statSync(path.join(ROOT, x), { throwIfNoEntry: false })?.isDirectory()) ? path.posix.join(c.dest, path.posix.basename(s)) : c.dest;
    return imagePath === target || imagePath.startsWith(`${target.replace(/\/$/, '')}/`);
  }));
}

/** Carries out one stage's COPYs (from the context, or from `built` stages) into `dir`, which stands for its WORKDIR. */
function applyCopies(stage: Stage, dir: string, built: Record<string, { dir: string; workdir: string }>) {
  const local = (imagePath: string) => path.join(dir, path.posix.relative(stage.workdir, imagePath));
  for (const copy of stage.copies) {
    for (const source of copy.sources) {
      const from = copy.from ? built[copy.from]! : undefined;
      const src = from ? path.join(from.dir, path.posix.relative(from.workdir, source)) : path.join(ROOT, source);
      const isDir = statSync(src).isDirectory();
      const dest = isDir || !copy.dest.endsWith('/') ? local(copy.dest) : path.join(local(copy.dest), path.basename(source));
      mkdirSync(path.dirname(dest), { recursive: true });
      // node_modules is moved, not copied: it is large, and its stage is done with it.
      if (from && isDir) renameSync(src, dest);
      else cpSync(src, dest, { recursive: true, filter: (f) => from !== undefined || !ignored(path.relative(ROOT, f).split(path.sep).join('/')) });
    }
  }
}

describe('the Dockerfile', () => {
  it('copies only what exists in the repository and is in the build context', () => {
    const fromContext = stages.flatMap((s) => s.copies.filter((c) => !c.from).flatMap((c) => c.sources));
    expect(fromContext.length).toBeGreaterThan(0);
    expect(fromContext.filter((s) => !existsSync(path.join(ROOT, s)))).toEqual([]);
    expect(fromContext.filter((s) => ignored(s))).toEqual([]);
    // A stage copied from is one the Dockerfile builds.
    expect(stages.flatMap((s) => s.copies.flatMap((c) => (c.from && !stageNamed(c.from) ? [c.from] : [])))).toEqual([]);
  });

  it('keeps local state, secrets and tests out of the build context', () => {
    for (const kept of ['node_modules', 'node_modules/x/index.js', '.git', 'data', '.env', 'test/unit/config.test.ts', 'bench', 'src/security/sealed-box.test.ts', 'packages/client/node_modules/jose', 'deploy/secrets', 'scripts/squash-migrations.ts']) expect([kept, ignored(kept)]).toEqual([kept, true]);
    for (const needed of ['src/main.ts', 'src/storage/migrations/baseline.sql', 'views/login.eta', 'console/app.js', 'bin/caregate.js', 'package-lock.json', 'scripts/build-embedded-template.ts']) expect([needed, ignored(needed)]).toEqual([needed, false]);
  });

  it('copies the script its command runs and every folder the server reads at run time', () => {
    const [node, script] = final.cmd ?? [];
    expect(node).toBe('node');
    const inImage = (relative: string) => path.posix.join(final.workdir, relative);
    const needed = [script!, 'package.json', 'src/storage/migrations/baseline.sql', 'views/assets/caregate.css', 'views/login.eta', 'console/app.js', 'console/console.css'];
    expect(needed.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
    expect(needed.filter((p) => !copiedInto(final, inImage(p)))).toEqual([]);
    expect(copiedInto(final, inImage('node_modules'))?.from).toBe(stageNamed('deps')?.name);
  });

  describe('the image, rebuilt in a temporary directory and started as its CMD says', () => {
    let work: string;
    let app: string;
    let url: string;
    let child: ReturnType<typeof spawn> | undefined;
    let output = '';

    beforeAll(async () => {
      work = mkdtempSync(path.join(os.tmpdir(), 'caregate-image-'));
      const built: Record<string, { dir: string; workdir: string }> = {};
      for (const [i, stage] of stages.entries()) {
        const dir = path.join(work, stage.name ?? `stage-${i}`);
        mkdirSync(dir, { recursive: true });
        applyCopies(stage, dir, built);
        if (stage !== final) {
          // The stage's own commands (npm ci), offline: the packages come from npm's cache, which
          // the repository's own `npm ci` filled from the same lockfile.
          for (const run of stage.runs) {
            const result = spawnSync('sh', ['-c', run], { cwd: dir, env: { ...process.env, npm_config_offline: 'true', NODE_OPTIONS: '' }, encoding: 'utf8' });
            if (result.status !== 0) throw new Error(`RUN ${run} failed in stage ${stage.name}:\n${result.stdout}\n${result.stderr}`);
          }
        }
        built[stage.name ?? String(i)] = { dir, workdir: stage.workdir };
      }
      app = built[final.name ?? String(stages.length - 1)]!.dir;
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      const [command, ...args] = final.cmd!;
      child = spawn(command === 'node' ? process.execPath : command!, args, {
        cwd: app,
        env: { PATH: process.env.PATH ?? '', ...final.env, CAREGATE_DATA_DIR: path.join(work, 'data'), CAREGATE_BASE_URL: url, PORT: String(port), CAREGATE_HOST: '127.0.0.1', CAREGATE_METRICS_PORT: 'off' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout!.on('data', (chunk) => (output += chunk));
      child.stderr!.on('data', (chunk) => (output += chunk));
      for (;;) {
        if (child.exitCode !== null) throw new Error(`caregate serve exited in the rebuilt image:\n${output}`);
        if ((await fetch(`${url}/health`).catch(() => undefined))?.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }, 300_000);

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('holds production dependencies only, and no tests', () => {
      expect(existsSync(path.join(app, 'node_modules', 'oidc-provider'))).toBe(true);
      expect(existsSync(path.join(app, 'node_modules', 'jest'))).toBe(false);
      expect(existsSync(path.join(app, 'src', 'security', 'sealed-box.test.ts'))).toBe(false);
      expect(existsSync(path.join(app, 'test'))).toBe(false);
    });

    it('holds the embedded database template its deps stage built, and its first start was a copy of it, not an initdb', () => {
      const template = path.join(app, 'node_modules', '.cache', 'caregate', path.basename(embeddedTemplateDir()));
      expect(existsSync(path.join(template, 'PG_VERSION'))).toBe(true);
      expect(clusterOf(path.join(work, 'data', 'pg'))).toBe(clusterOf(template));
    });

    it('passes its own HEALTHCHECK', () => {
      const [command, ...args] = final.healthcheck!;
      const result = spawnSync(command === 'node' ? process.execPath : command!, args, { env: { PATH: process.env.PATH ?? '', PORT: new URL(url).port }, encoding: 'utf8' });
      expect([result.status, result.stderr]).toEqual([0, '']);
    });

    it('serves the admin console and pages rendered from views/ (console/ and views/ are in the image)', async () => {
      const consolePage = await fetch(`${url}/t/demo/admin`);
      expect(consolePage.status).toBe(200);
      const script = await fetch(`${url}/console/app.js`);
      expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
      // Without the cookies a browser keeps, the sign-in round trip ends on an error page: still a
      // page rendered from views/ (its layout links the stylesheet).
      const page = await fetch(`${url}/t/demo/account`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('<link rel="stylesheet" href="/assets/caregate.css">');
      expect((await fetch(`${url}/assets/caregate.css`)).status).toBe(200);
    });
  });
});
