// Starts bench/floor-server.ts as a child process (pinned to the server core) and says how to ask it
// for a client-credentials token, for the user access token the introspection and userinfo figures
// use, and with which account to sign in to it.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TokenTarget } from './client-credentials.ts';
import type { EndpointTarget } from './endpoints.ts';
import type { Credentials, RelyingParty } from './login-flow.ts';
import { freePort, spawnNode, waitForHttp, type Child } from './processes.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface FloorInstance {
  child: Child;
  target: TokenTarget;
  /** Milliseconds from spawning the process to its discovery document answering. */
  readyMs: number;
  /** A new opaque user access token for the web client (see floor-server.ts), with the endpoints to use it at. */
  endpoints(): Promise<EndpointTarget>;
  /** The web client as a relying party for the login and refresh figures (its API as the resource), and a new refresh token for it. */
  web: RelyingParty;
  /** The floor's one account, for the login figure. */
  user: Credentials;
  refreshToken(): Promise<string>;
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
  const user: Credentials = { username: 'floor.user', password: randomBytes(18).toString('base64url') };
  const env = {
    ...process.env,
    FLOOR_PORT: String(port),
    FLOOR_CLIENT_ID: target.clientId,
    FLOOR_CLIENT_SECRET: target.clientSecret,
    FLOOR_RESOURCE: target.resource,
    FLOOR_WEB_CLIENT_ID: web.clientId,
    FLOOR_WEB_CLIENT_SECRET: web.clientSecret,
    FLOOR_USERNAME: user.username,
    FLOOR_PASSWORD: user.password,
  };
  const started = performance.now();
  const child = spawnNode('floor (bare oidc-provider)', [path.join(HERE, 'floor-server.ts')], { env, cpu });
  await waitForHttp(`${issuer}/.well-known/openid-configuration`, child, { intervalMs: 20 });
  const readyMs = performance.now() - started;
  const mint = async (what: 'user-token' | 'refresh-token') => {
    const res = await fetch(`${issuer}/bench/${what}`, { method: 'POST' });
    if (res.status !== 200) throw new Error(`floor: minting a ${what}: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { token: string }).token;
  };
  const endpoints = async (): Promise<EndpointTarget> => ({ issuer, ...web, accessToken: await mint('user-token') });
  const rp: RelyingParty = { issuer, ...web, redirectUri: 'https://rp.bench.invalid/callback', resource: target.resource, scope: 'openid profile email roles' };
  return { child, target, readyMs, endpoints, web: rp, user, refreshToken: () => mint('refresh-token'), stop: () => child.stop() };
}
