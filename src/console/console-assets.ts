// The console's static files: console/*.js and console.css from this repository, and Preact with
// htm (one ES module, from the `htm` package) as /console/vendor/preact-htm.js. Read once at start,
// served from memory; nothing is built, nothing fetched from elsewhere.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const consoleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console');

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

export interface ConsoleAsset {
  type: string;
  body: Buffer;
}

/** Every file the console page may load, by its path below /console/. */
export function loadConsoleAssets(dir = consoleDir): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const file = path.join(folder, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (TYPES[path.extname(name)]) assets.set(path.relative(dir, file).split(path.sep).join('/'), { type: TYPES[path.extname(name)]!, body: readFileSync(file) });
    }
  };
  walk(dir);
  // The package's ES module build of Preact with htm, found from its main file (dist/htm.js).
  const vendor = path.resolve(path.dirname(createRequire(import.meta.url).resolve('htm')), '../preact/standalone.mjs');
  assets.set('vendor/preact-htm.js', { type: TYPES['.js']!, body: readFileSync(vendor) });
  return assets;
}
