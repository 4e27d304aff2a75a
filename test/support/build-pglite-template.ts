// Run by pglite-template.ts as its own process: opens an embedded store in argv[2] and migrates it,
// exactly as a first start does, then closes it.
import { openStorage } from '../../src/storage/index.ts';

const storage = await openStorage({ dataDir: process.argv[2]! });
await storage.migrate();
await storage.close();
