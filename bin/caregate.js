#!/usr/bin/env node
// Caregate runs its TypeScript sources directly (Node >= 22.18 strips types natively).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`caregate: Node.js 22.18 or newer is required (this is ${process.version}).\n`);
  process.exit(1);
}
await import('../src/main.ts');
