// Starts bench/floor-server.ts as a child process (pinned to the server core) and says how to ask it
// for a client-credentials token, and for the user access token the introspection and userinfo
// figures use.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenTarget } from './client-credentials.ts';
import type { EndpointTarget } from './endpoints.ts';
import { freePort, spawnNode, waitForHttp, type Child } from './processes.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface FloorInstance {
  child: Child;
  target: TokenTarget;
  /** Milliseconds from spawning the process to its discovery document answering. */
  readyMs: number;
  /** A new opaque user access token for the web client (see floor-server.ts), with the endpoints to use it at. */
  endpoints(): Promise<EndpointTarget>;
  stop(): Promise<void>;
}

export async function startFloor({ cpu }: { cpu?: number }): Promise<FloorInstance> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const target: TokenTarget = {
    tokenUrl: `${issuer}/token`,
    clientId: 'bench-floor',
    clientSecret: randomBytes(32).toString('base64url'),
    resource: 'urn:bench:api',
  };
  const web = { clientId: 'bench-floor-web', clientSecret: randomBytes(32).toString('base64url') };
  const env = {
    ...process.env,
    FLOOR_PORT: String(port),
    FLOOR_CLIENT_ID: target.clientId,
    FLOOR_CLIENT_SECRET: target.clientSecret,
    FLOOR_RESOURCE: target.resource,
    FLOOR_WEB_CLIENT_ID: web.clientId,
    FLOOR_WEB_CLIENT_SECRET: web.clientSecret,
  };
  const started = performance.now();
  const child = spawnNode('floor (bare oidc-provider)', [path.join(HERE, 'floor-server.ts')], { env, cpu });
  await waitForHttp(`${issuer}/.well-known/openid-configuration`, child, { intervalMs: 20 });
  const readyMs = performance.now() - started;
  const endpoints = async (): Promise<EndpointTarget> => {
    const res = await fetch(`${issuer}/bench/user-token`, { method: 'POST' });
    if (res.status !== 200) throw new Error(`floor: minting a user token: HTTP ${res.status} ${await res.text()}`);
    const { access_token } = (await res.json()) as { access_token: string };
    return { issuer, ...web, accessToken: access_token };
  };
  return { child, target, readyMs, endpoints, stop: () => child.stop() };
}
