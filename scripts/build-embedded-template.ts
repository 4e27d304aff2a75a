// Builds the migrated embedded database that a first start copies (src/storage/embedded-template.ts):
// npm runs it after `npm ci` (postinstall), the Dockerfile once the sources are in the image, and
// the test suite's global setup when it is missing. It runs initdb and the migrations exactly as a
// first start without a template does, in a directory of its own, then moves the result into
// place (readable by all, writable by the installer only); older templates are removed. An install
// must not fail for want of it, so a failure is printed and the exit status is 0 (`--strict` makes
// it 1: the tests); should the process itself die, package.json's postinstall prints a line and
// goes on.
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const strict = process.argv.includes('--strict');
let work: string | undefined;
try {
  // Imported here, not at the top: a checkout without the sources fails into the catch below.
  const { embeddedTemplateDir, holdsDatabase, openStorage, setModes } = await import('../src/storage/index.ts');
  const target = embeddedTemplateDir();
  const cache = path.dirname(target);
  if (!holdsDatabase(target)) {
    mkdirSync(cache, { recursive: true });
    work = mkdtempSync(`${target}.building-`);
    const storage = await openStorage({ dataDir: work, template: false });
    await storage.migrate();
    await storage.close();
    rmSync(path.join(work, 'pg', 'caregate.lock'), { force: true });
    // Readable by the server's user, writable by none but the installer (PGlite makes its files 0666).
    setModes(path.join(work, 'pg'), 0o755, 0o644);
    // Two builds at once (two test runs): the loser's rename fails on the winner's directory.
    try {
      renameSync(path.join(work, 'pg'), target);
    } catch (error) {
      if (!holdsDatabase(target)) throw error;
    }
    console.log(`caregate: embedded database template ready (${path.relative(process.cwd(), target)})`);
  }
  // Templates for an earlier PGlite or earlier migrations are of no more use, nor builds that were
  // killed (an hour is longer than any build takes).
  for (const name of readdirSync(cache)) {
    const file = path.join(cache, name);
    const stale = name.includes('.building-') ? Date.now() - statSync(file).mtimeMs > 3_600_000 : name.startsWith('pglite-') && file !== target;
    if (stale && file !== work) rmSync(file, { recursive: true, force: true });
  }
} catch (error) {
  console.warn(`caregate: could not build the embedded database template (${(error as Error).message}); a first start will create its database instead, which takes a few seconds longer`);
  if (strict) process.exitCode = 1;
} finally {
  if (work) rmSync(work, { recursive: true, force: true });
}
