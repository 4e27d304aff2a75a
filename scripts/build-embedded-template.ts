// Builds the migrated embedded database that a first start copies (src/storage/embedded-template.ts):
// npm runs it after `npm ci` (postinstall), the Dockerfile once the sources are in the image, and
// the test suite's global setup when it is missing. It runs initdb and the migrations exactly as a
// first start without a template does, in a directory of its own, then moves the result into
// place; older templates are removed. An install must not fail for want of it, so a failure is
// printed and the exit status is 0; `--strict` makes it 1 (the tests).
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { embeddedTemplateDir, holdsDatabase, openStorage } from '../src/storage/index.ts';

const strict = process.argv.includes('--strict');
const target = embeddedTemplateDir();
const cache = path.dirname(target);

if (!holdsDatabase(target)) {
  let work: string | undefined;
  try {
    mkdirSync(cache, { recursive: true });
    work = mkdtempSync(`${target}.building-`);
    const storage = await openStorage({ dataDir: work, template: false });
    await storage.migrate();
    await storage.close();
    rmSync(path.join(work, 'pg', 'caregate.lock'), { force: true });
    // Two builds at once (two test runs): the loser's rename fails on the winner's directory.
    try {
      renameSync(path.join(work, 'pg'), target);
    } catch (error) {
      if (!holdsDatabase(target)) throw error;
    }
    console.log(`caregate: embedded database template ready (${path.relative(process.cwd(), target)})`);
  } catch (error) {
    console.warn(`caregate: could not build the embedded database template (${(error as Error).message}); a first start will create its database instead, which takes a few seconds longer`);
    if (strict) process.exitCode = 1;
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}
// Templates for an earlier PGlite or earlier migrations are of no more use.
if (holdsDatabase(target)) {
  for (const name of readdirSync(cache)) {
    if (name.startsWith('pglite-') && !name.includes('.building-') && path.join(cache, name) !== target) rmSync(path.join(cache, name), { recursive: true, force: true });
  }
}
