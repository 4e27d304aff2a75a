// A relying application's project as a developer would make one: @caregate/client packed from
// packages/client (its prepack builds it), installed from the tarball with plain `npm install` into
// a fresh folder beside Express, Koa and Fastify, and the READMEs' examples written into it to run.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/caregate.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../../..');
export const PACKAGE_DIR = path.join(ROOT, 'packages/client');

/** The environment of npm and the apps: the test runner's, without its Node options (VM modules). */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _jestOnly, ...env } = process.env;
  return { ...env, ...extra };
}

/** The fenced blocks of a markdown file whose info string is `js <name>`, by name. */
export async function examples(markdownPath: string): Promise<Map<string, string>> {
  const text = await readFile(markdownPath, 'utf8');
  return new Map([...text.matchAll(/^```js ([\w.-]+)\n([\s\S]*?)^```$/gm)].map((m) => [m[1]!, m[2]!]));
}

export interface RelyingProject {
  dir: string;
  /** Runs `node <file>` in the project; resolves with its stdout when it exits 0. */
  node(file: string, env: Record<string, string>): Promise<string>;
  /** Starts `<file>` with PORT set and resolves once it answers HTTP on that port. */
  start(file: string, env: Record<string, string>): Promise<{ url: string; stop(): void }>;
  cleanup(): Promise<void>;
}

export async function createRelyingProject(files: Map<string, string>, dependencies: string[]): Promise<RelyingProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'caregate-relying-app-'));
  const children: ChildProcess[] = [];
  try {
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PACKAGE_DIR, env: childEnv() });
    const [{ filename }] = JSON.parse(stdout) as Array<{ filename: string }>;
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'relying-app', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', `./${filename}`, ...dependencies], { cwd: dir, env: childEnv() });
    for (const [name, source] of files) await writeFile(path.join(dir, name), source);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    dir,
    async node(file, env) {
      return (await run(process.execPath, [file], { cwd: dir, env: childEnv(env) })).stdout;
    },
    async start(file, env) {
      const port = await freePort();
      const child = spawn(process.execPath, [file], { cwd: dir, env: childEnv({ ...env, PORT: String(port) }), stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (chunk) => { stderr += chunk; });
      const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${stderr}`))));
      const url = `http://127.0.0.1:${port}`;
      await Promise.race([exited, listening(url)]);
      exited.catch(() => {});
      return { url, stop: () => child.kill() };
    },
    async cleanup() {
      children.forEach((child) => child.kill());
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when something answers HTTP at `url`: the app has bound its port. */
async function listening(url: string): Promise<void> {
  for (;;) {
    try {
      await (await fetch(url)).arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
