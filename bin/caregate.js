#!/usr/bin/env node
// Caregate runs its TypeScript sources directly (Node >= 22.18 strips types natively).
import module from 'node:module';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`caregate: Node.js 22.18 or newer is required (this is ${process.version}).\n`);
  process.exit(1);
}
// Stripping types and compiling the sources is most of a short command's start-up: Node keeps the
// result in this cache (keyed by each file's content) for the next run. It lives with the
// installation, not in a temp directory other users could write to; where the installation is
// read-only the cache is quietly off. NODE_COMPILE_CACHE chooses another place,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off.
module.enableCompileCache?.(process.env.NODE_COMPILE_CACHE || new URL('../node_modules/.cache/caregate-compile', import.meta.url).pathname);
// A server, and a command that will open the embedded store here, take the V8 flags they run with
// first (src/v8-flags.ts), so that relaunching repeats Node's start and little else.
(await import('../src/v8-flags.ts')).relaunchBeforeLoading(process.argv.slice(2), process.env);
await import('../src/main.ts');
