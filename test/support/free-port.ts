// A free TCP port on 127.0.0.1. Its own module, free of Jest, because the benchmark's directory
// figure (bench/directory-sync.ts) starts slapd through test/support/slapd.ts outside Jest.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}
