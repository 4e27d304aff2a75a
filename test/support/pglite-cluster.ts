// Which PostgreSQL cluster a data directory belongs to: pg_control's first field, the system
// identifier that every initdb sets anew. A copy of a database keeps it, so it tells a directory
// seeded from the embedded template from one PGlite's initdb made.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function clusterOf(dataDir: string): bigint {
  return readFileSync(path.join(dataDir, 'global', 'pg_control')).readBigUInt64LE(0);
}
