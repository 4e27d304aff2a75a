// A new embedded database is a copy of the migrated template that `npm ci` builds, not a fresh
// initdb (src/storage/embedded-template.ts). PostgreSQL's control file names the cluster it belongs
// to (its system identifier, set once by initdb), so a copy is told from an initdb by that number
// alone (test/support/pglite-cluster.ts); no server is started here.
import { afterAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDataSource } from '../../../src/storage/data-source.ts';
import { embeddedTemplateDir, holdsDatabase } from '../../../src/storage/index.ts';
import { seedFromTemplate, type CopyTree } from '../../../src/storage/embedded-template.ts';
import { clusterOf } from '../../support/pglite-cluster.ts';
import { tempDataDir, type TempDataDir } from '../../support/stores.ts';

const template = embeddedTemplateDir();

const dirs: TempDataDir[] = [];
afterAll(async () => {
  for (const dir of dirs) await dir.cleanup();
});
async function emptyDir(): Promise<string> {
  const dir = await tempDataDir();
  dirs.push(dir);
  return dir.path;
}

describe('the embedded database template', () => {
  it('is built by npm ci (the global setup makes sure) and holds a database', () => {
    expect(holdsDatabase(template)).toBe(true);
    expect(readdirSync(template)).not.toContain('caregate.lock');
  });

  it('is what a new embedded store starts from, and only a new one', async () => {
    const dataDir = await emptyDir();
    createDataSource({ dataDir });
    expect(clusterOf(path.join(dataDir, 'pg'))).toBe(clusterOf(template));
    // A directory that already holds a database is left as it is.
    writeFileSync(path.join(dataDir, 'pg', 'mine'), 'kept');
    expect(seedFromTemplate(path.join(dataDir, 'pg'))).toBe(false);
    expect(readFileSync(path.join(dataDir, 'pg', 'mine'), 'utf8')).toBe('kept');
  });

  it('is not used when the caller asks for an initdb (template: false)', async () => {
    const dataDir = await emptyDir();
    createDataSource({ dataDir, template: false });
    expect(holdsDatabase(path.join(dataDir, 'pg'))).toBe(false);
  });

  it('is copied again after a copy cut short: the marker file is written last', async () => {
    const dir = path.join(await emptyDir(), 'pg');
    // A copy that dies after 20 files, taking the root's files first (PG_VERSION among them) as the
    // filter lets it: had the marker been copied with the rest, the directory would now pass for a database.
    const cutShort: CopyTree = (from, to, filter) => {
      const files = readdirSync(from, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name))
        .sort((a, b) => a.split(path.sep).length - b.split(path.sep).length || a.localeCompare(b));
      for (const [i, file] of files.filter(filter).entries()) {
        if (i === 20) throw new Error('killed');
        mkdirSync(path.dirname(path.join(to, path.relative(from, file))), { recursive: true });
        copyFileSync(file, path.join(to, path.relative(from, file)));
      }
    };
    expect(() => seedFromTemplate(dir, cutShort)).toThrow('killed');
    expect(readdirSync(dir).length).toBeGreaterThan(0);
    expect(holdsDatabase(dir)).toBe(false);
    expect(seedFromTemplate(dir)).toBe(true);
    expect(clusterOf(dir)).toBe(clusterOf(template));
  });

  it("gives the new database to its owner alone, and the template can be changed by its installer only", async () => {
    const dir = path.join(await emptyDir(), 'pg');
    expect(seedFromTemplate(dir)).toBe(true);
    const modes = (root: string) => [root, ...readdirSync(root, { recursive: true }).map((f) => path.join(root, String(f)))].map((f) => statSync(f).mode & 0o777);
    expect(new Set(modes(dir))).toEqual(new Set([0o700, 0o600]));
    expect(modes(template).filter((mode) => mode & 0o022)).toEqual([]);
  });
});
