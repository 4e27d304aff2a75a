// Starts bench/floor-server.ts as a child process (pinned to the server core) and says how to ask it
// for a client-credentials token.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenTarget } from './client-credentials.ts';
import { freePort, spawnNode, waitForHttp, type Child } from './processes.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface FloorInstance {
  child: Child;
  target: TokenTarget;
  stop(): Promise<void>;
}

export async function startFloor({ cpu }: { cpu?: number }): Promise<FloorInstance> {
  const port = await freePort();
  const target: TokenTarget = {
    tokenUrl: `http://127.0.0.1:${port}/token`,
    clientId: 'bench-floor',
    clientSecret: randomBytes(32).toString('base64url'),
    resource: 'urn:bench:api',
  };
  const env = {
    ...process.env,
    FLOOR_PORT: String(port),
    FLOOR_CLIENT_ID: target.clientId,
    FLOOR_CLIENT_SECRET: target.clientSecret,
    FLOOR_RESOURCE: target.resource,
  };
  const child = spawnNode('floor (bare oidc-provider)', [path.join(HERE, 'floor-server.ts')], { env, cpu });
  await waitForHttp(`http://127.0.0.1:${port}/.well-known/openid-configuration`, child);
  return { child, target, stop: () => child.stop() };
}
