// A migrated embedded database to start tests from. PGlite's initdb takes about 6 s of CPU on
// this machine — most of an embedded test server's start — so the suite pays it once: the global
// setup builds the template (a child process runs the real migrations), and tempDataDir() copies
// it into each new data directory. Keyed by the migrations' text and PGlite's version, kept in
// node_modules/.cache, so a changed migration builds a new one. Tests that need a truly empty
// directory ask tempDataDir({ empty: true }).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MIGRATIONS = path.join(ROOT, 'src/storage/migrations');
const BUILDER = fileURLToPath(new URL('./build-pglite-template.ts', import.meta.url));

/** Where the template for the current migrations lives (it may not exist yet). */
export async function pgliteTemplateDir(): Promise<string> {
  const hash = createHash('sha256');
  const pglite = JSON.parse(await readFile(path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')) as { version: string };
  hash.update(pglite.version);
  for (const name of (await readdir(MIGRATIONS)).sort()) hash.update(name).update(await readFile(path.join(MIGRATIONS, name)));
  return path.join(ROOT, 'node_modules/.cache/caregate-test', `pglite-${hash.digest('hex').slice(0, 16)}`);
}

/** Builds the template unless it exists; a concurrent build loses the rename race harmlessly. */
export async function ensurePgliteTemplate(): Promise<string> {
  const dir = await pgliteTemplateDir();
  if (await exists(dir)) return dir;
  const building = `${dir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  await promisify(execFile)(process.execPath, [BUILDER, building], { cwd: ROOT, timeout: 300_000 });
  await rm(path.join(building, 'pg', 'caregate.lock'), { force: true });
  await rename(building, dir).catch(async (error: NodeJS.ErrnoException) => {
    await rm(building, { recursive: true, force: true });
    if (!(await exists(dir))) throw error;
  });
  return dir;
}

/** Copies the template's database into dataDir (as dataDir/pg); false when there is no template. */
export async function copyPgliteTemplate(dataDir: string): Promise<boolean> {
  const dir = await pgliteTemplateDir();
  if (!(await exists(dir))) return false;
  await cp(path.join(dir, 'pg'), path.join(dataDir, 'pg'), { recursive: true });
  return true;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}
