// A new embedded database starts as a copy of a migrated template, not from PGlite's initdb.
// initdb runs PostgreSQL's bootstrap in WebAssembly — 5–6 s of CPU on a 2-core machine, most of a
// first start — and gives every installation the same files; the baseline migration that follows
// is the same too. So `npm ci` (the package's postinstall, scripts/build-embedded-template.ts)
// builds that database once, and a first start copies its files (≈ 40 MB, tens of milliseconds).
// The template holds the schema and the migrations table only: no tenant, key or secret — the
// first start's bootstrap makes those for its own instance. It is keyed by PGlite's version and the
// migrations' text, so an upgrade of either makes a new one; without a template (an install with
// --ignore-scripts, a read-only node_modules) a first start runs initdb as before.
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/caregate/', import.meta.url));
/** The file PGlite looks for to tell an existing database from none (it then runs no initdb). */
const MARKER = 'PG_VERSION';

/** Where the template for this PGlite and these migrations lives (it may not exist). */
export function embeddedTemplateDir(): string {
  const pglite = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const hash = createHash('sha256').update(JSON.parse(readFileSync(pglite, 'utf8')).version as string);
  for (const name of readdirSync(MIGRATIONS).sort()) hash.update(name).update(readFileSync(path.join(MIGRATIONS, name)));
  return path.join(CACHE, `pglite-${hash.digest('hex').slice(0, 16)}`);
}

/** True when `dir` holds a database (PGlite resumes it) rather than nothing (PGlite runs initdb). */
export function holdsDatabase(dir: string): boolean {
  return existsSync(path.join(dir, MARKER));
}

/** Copies the tree `from` into `to`, the paths `filter` accepts (a parameter so that a test can cut a copy short). */
export type CopyTree = (from: string, to: string, filter: (source: string) => boolean) => void;
const copyTree: CopyTree = (from, to, filter) => cpSync(from, to, { recursive: true, filter });

/**
 * Fills the empty database directory `dir` (the caller holds its lock) from the template; false
 * when there is none. The marker is copied last, so a copy cut short is not taken for a database:
 * the next start copies again.
 */
export function seedFromTemplate(dir: string, copy: CopyTree = copyTree): boolean {
  if (holdsDatabase(dir)) return false;
  const template = embeddedTemplateDir();
  if (!holdsDatabase(template)) return false;
  copy(template, dir, (source) => source !== path.join(template, MARKER));
  // PGlite makes its files writable by everyone (0666); a database is its owner's alone.
  setModes(dir, 0o700, 0o600);
  copyFileSync(path.join(template, MARKER), path.join(dir, MARKER));
  chmodSync(path.join(dir, MARKER), 0o600);
  return true;
}

/** Gives `dir` and every directory under it `dirMode`, and every file `fileMode`. */
export function setModes(dir: string, dirMode: number, fileMode: number): void {
  chmodSync(dir, dirMode);
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    chmodSync(path.join(entry.parentPath, entry.name), entry.isDirectory() ? dirMode : fileMode);
  }
}
