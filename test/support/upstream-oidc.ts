// An upstream OpenID Provider for the federation tests, standing in for Okta, Entra ID or Google
// Workspace: a separately configured oidc-provider on 127.0.0.1 (http) with discovery, code flow
// with PKCE (required), RS256 ID tokens and userinfo. Sign-in is a plain HTML form a test HTTP agent
// can post (no browser, no consent page). Beside it: a Microsoft Graph stand-in for Entra's group
// overage, and fault injection (slow answers, wrong aud/iss, bad signature, error redirects, going
// down and coming back on the same port), all done inside the server.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type JWTHeaderParameters } from 'jose';

export interface UpstreamUser {
  sub: string;
  /** When set, the login form must be posted with it; otherwise any password is accepted. */
  password?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  given_name?: string;
  family_name?: string;
  preferred_username?: string;
  phone_number?: string;
  groups?: string[];
  department?: string;
  title?: string;
  tid?: string;
  hd?: string;
  xms_edov?: boolean;
  /** Set as the session's `amr` at sign-in, hence in the ID token. */
  amr?: string[];
  [claim: string]: unknown;
}

export interface UpstreamClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  jwks?: { keys: object[] };
}

export interface UpstreamFaults {
  /** Every response (discovery, authorization, token, jwks, userinfo, graph) waits this long. */
  delayMs: number;
  /** ID tokens from the token endpoint carry aud 'someone-else' (signed with the real key). */
  wrongAudience: boolean;
  /** ID tokens from the token endpoint carry iss `${issuer}/evil` (signed with the real key). */
  wrongIssuer: boolean;
  /** ID tokens are signed with a key that is not in the JWKS, under the published kid. */
  badSignature: boolean;
  /** Entra group overage: no `groups`; `_claim_names`/`_claim_sources` point at the Graph stand-in. */
  overage: boolean;
  /** The authorization endpoint redirects back with ?error=<error>&state=…&iss=… at once. */
  error?: string;
}

export interface UpstreamOidc {
  issuer: string;
  port: number;
  /** By sub; tests may change them between sign-ins (claims are read at each token request). */
  users: Map<string, UpstreamUser>;
  /** Registers (or replaces) a client; works at any time. */
  addClient(c: UpstreamClient): void;
  faults: UpstreamFaults;
  /** `${origin}/graph`: GET {graphUrl}/v1.0/me/transitiveMemberOf/microsoft.graph.group, 2 groups a page. */
  graphUrl: string;
  stop(): Promise<void>;
  /** Closes the listener and every open connection (connections are then refused). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

export interface UpstreamOidcOptions {
  /** The issuer's path, e.g. '/tenant-id/v2.0' (Entra style); default none. */
  issuerPath?: string;
  /** Okta style: `groups` only when the `groups` scope is granted. Default: always (Entra style). */
  groupsScopeRequired?: boolean;
  /** Names of further custom claims the ID token may carry (from the user, always granted). */
  extraClaims?: string[];
}

const GRAPH_GROUPS = '/graph/v1.0/me/transitiveMemberOf/microsoft.graph.group';
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid: string, error?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Upstream sign-in</title></head><body>
<h1>Upstream sign-in</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
  <input name="login" autocomplete="username"> <input name="password" type="password">
  <button type="submit">Sign in</button>
</form></body></html>`;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

export async function startUpstreamOidc(options: UpstreamOidcOptions = {}): Promise<UpstreamOidc> {
  const issuerPath = (options.issuerPath ?? '').replace(/\/$/, '');
  const users = new Map<string, UpstreamUser>();
  const clients = new Map<string, UpstreamClient>();
  const faults: UpstreamFaults = { delayMs: 0, wrongAudience: false, wrongIssuer: false, badSignature: false, overage: false };

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `${origin}${issuerPath}`;
  const graphUrl = `${origin}/graph`;

  const signing = await generateKeyPair('RS256', { extractable: true });
  const impostor = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(signing.privateKey)), kid: 'upstream-1', alg: 'RS256', use: 'sig' };

  // Tokens, sessions and interactions in a Map; clients from `clients`, so they can be added late.
  const store = new Map<string, AdapterPayload>();
  const adapter = (model: string): Adapter => {
    const key = (id: string) => `${model}:${id}`;
    const all = () => [...store.entries()].filter(([k]) => k.startsWith(`${model}:`));
    return {
      async upsert(id, payload) { store.set(key(id), payload); },
      async find(id) {
        if (model !== 'Client') return store.get(key(id));
        const c = clients.get(id);
        return c && { token_endpoint_auth_method: 'client_secret_basic', ...c, grant_types: ['authorization_code'], response_types: ['code'] };
      },
      async findByUid(uid) { return all().find(([, p]) => p.uid === uid)?.[1]; },
      async findByUserCode() { return undefined; },
      async consume(id) { const p = store.get(key(id)); if (p) p.consumed = Math.floor(Date.now() / 1000); },
      async destroy(id) { store.delete(key(id)); },
      async revokeByGrantId(grantId) { for (const [k, p] of store) if (p.grantId === grantId) store.delete(k); },
    };
  };

  /** The user's claims as the upstream releases them (oidc-provider filters them by scope). */
  function claimsOf(user: UpstreamUser): Record<string, unknown> {
    const { password: _password, amr: _amr, ...claims } = user;
    if (!faults.overage) return claims;
    delete claims.groups;
    return { ...claims, _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: `${origin}${GRAPH_GROUPS}` } } };
  }

  const custom = ['department', 'title', 'tid', 'hd', 'xms_edov', ...(options.extraClaims ?? [])];
  const configuration: Configuration = {
    adapter,
    jwks: { keys: [jwk] } as Configuration['jwks'],
    // Its own cookie names: the test agent keeps one jar for every host, and Caregate's oidc-provider uses the defaults.
    cookies: { keys: [randomBytes(32).toString('base64url')], names: { session: '_upstream_session', interaction: '_upstream_interaction', resume: '_upstream_resume' } },
    claims: {
      // amr and auth_time come from the session (the login result), not the account.
      openid: ['sub', 'amr', 'auth_time', ...custom, ...(options.groupsScopeRequired ? [] : ['groups'])],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
      phone: ['phone_number'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    ttl: { AccessToken: 3600, AuthorizationCode: 60, Grant: 86400, IdToken: 3600, Interaction: 3600, Session: 86400 },
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const user = users.get(sub);
      return user && { accountId: sub, claims: () => claimsOf(user) as { sub: string } };
    },
    // Auto-consent: every requested scope is granted, so the consent prompt never shows.
    async loadExistingGrant(ctx) {
      const { client, session, provider } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session!.grantIdFor(client!.clientId);
      const grant = (grantId && (await provider.Grant.find(grantId))) || new provider.Grant({ clientId: client!.clientId, accountId: session!.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
      await grant.save();
      return grant;
    },
  };
  const provider = new Provider(issuer, configuration);

  // Wrong aud / iss / signature: the token endpoint's ID token, altered on its way out.
  provider.use(async (ctx, next) => {
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if ((ctx as KoaContextWithOIDC).oidc?.route !== 'token' || !body?.id_token) return;
    if (!faults.wrongAudience && !faults.wrongIssuer && !faults.badSignature) return;
    const payload = decodeJwt(body.id_token);
    if (faults.wrongAudience) payload.aud = 'someone-else';
    if (faults.wrongIssuer) payload.iss = `${issuer}/evil`;
    const header = decodeProtectedHeader(body.id_token) as JWTHeaderParameters;
    body.id_token = await new SignJWT(payload).setProtectedHeader(header).sign(faults.badSignature ? impostor.privateKey : signing.privateKey);
  });
  const callback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, uid: string, login: boolean) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'POST' && login) {
      const form = await readForm(req);
      const name = form.get('login') ?? '';
      const user = users.get(name) ?? [...users.values()].find((u) => u.preferred_username === name || u.email === name);
      if (user && (user.password === undefined || user.password === form.get('password'))) {
        const result = { login: { accountId: user.sub, ...(user.amr ? { amr: user.amr } : {}) } };
        return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid, 'Unknown user or wrong password'));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid));
  }

  /** Graph stand-in: the access token's user's groups, two a page, with absolute next links. */
  async function graph(req: IncomingMessage, res: ServerResponse, url: URL) {
    const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname !== GRAPH_GROUPS) return json(404, { error: { code: 'Request_ResourceNotFound' } });
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const at = token ? await provider.AccessToken.find(token) : undefined;
    const user = at?.accountId ? users.get(at.accountId) : undefined;
    if (!user) return json(401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token is invalid.' } });
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    const groups = user.groups ?? [];
    const next = skip + 2 < groups.length ? { '@odata.nextLink': `${origin}${GRAPH_GROUPS}?$select=id&$skiptoken=${skip + 2}` } : {};
    json(200, { value: groups.slice(skip, skip + 2).map((id) => ({ '@odata.type': '#microsoft.graph.group', id })), ...next });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    try {
      if (faults.delayMs) await new Promise((r) => setTimeout(r, faults.delayMs));
      if (req.destroyed) return; // the caller gave up (timeout) or down() cut the connection
      const url = new URL(req.url ?? '/', origin);
      const step = /^\/interaction\/([\w-]+)(\/login)?$/.exec(url.pathname);
      if (step) return await interaction(req, res, step[1]!, Boolean(step[2]));
      if (url.pathname.startsWith('/graph/')) return await graph(req, res, url);
      if (!url.pathname.startsWith(`${issuerPath}/`)) return void res.writeHead(404).end();
      if (faults.error && url.pathname === `${issuerPath}/auth`) {
        const client = clients.get(url.searchParams.get('client_id') ?? '');
        const redirectUri = url.searchParams.get('redirect_uri') ?? '';
        if (client?.redirect_uris.includes(redirectUri)) {
          const to = new URL(redirectUri);
          to.searchParams.set('error', faults.error);
          const state = url.searchParams.get('state');
          if (state !== null) to.searchParams.set('state', state);
          to.searchParams.set('iss', issuer);
          return void res.writeHead(303, { location: to.href }).end();
        }
      }
      // Mounted under the issuer's path, as koa-mount / express would.
      if (issuerPath) Object.assign(req, { originalUrl: req.url, url: req.url!.slice(issuerPath.length) });
      await callback(req, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  }

  const close = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    issuer,
    port,
    users,
    faults,
    graphUrl,
    addClient: (c) => void clients.set(c.client_id, c),
    stop: close,
    // A moment after closing, so that clients in this process have seen their pooled keep-alive
    // sockets end and their next request is refused rather than written into a dead socket.
    down: () => close().then(() => new Promise((r) => setTimeout(r, 50))),
    up: () =>
      new Promise<void>((resolve, reject) => {
        if (server.listening) return resolve();
        server.once('error', reject).listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      }),
  };
}
