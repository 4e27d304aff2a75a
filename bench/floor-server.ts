// The floor: bare oidc-provider configured like one Caregate tenant for client credentials (ES256
// key, resource indicators issuing a JWT access token) but with nothing of Caregate around it — the
// built-in in-memory adapter, one static client, no Koa app, no database. Whatever Caregate serves
// below this rate is Caregate's own cost.
//
// For introspection and userinfo it also has a confidential web client and one account, and mints
// that client an opaque user access token (scope openid profile email roles, bound to a grant, as an
// authorization code flow would leave it) at POST /bench/user-token, without a sign-in.
// For the refresh figure it mints that client a refresh token the same way (POST
// /bench/refresh-token), on a grant that also holds the API resource and bound to a session, and
// rotates it on every use as Caregate does: each refresh finds the token, its grant and its
// session, and answers a JWT access token for the API, an ID token and the next refresh token.
//
// For the login figure it has the least a password sign-in needs around oidc-provider: a login page
// (a form with a CSRF field, as bench/login-flow.ts reads it), and a POST that checks the CSRF field
// and verifies the one account's password with argon2id (Caregate's parameters, as
// bench/hash-rate.ts reads them), then grants the requested scopes and the API and finishes the
// interaction. No lockout, no audit, no second factor, no policy: what is left of a Caregate sign-in
// when everything Caregate adds is taken away, so the two rates show what those additions cost.
//
// Runs as a child process (bench/run.ts starts it pinned to the server core) so the load generator
// does not share its event loop. Settings arrive in the environment:
//   FLOOR_PORT, FLOOR_CLIENT_ID, FLOOR_CLIENT_SECRET, FLOOR_RESOURCE, FLOOR_WEB_CLIENT_ID, FLOOR_WEB_CLIENT_SECRET,
//   FLOOR_USERNAME, FLOOR_PASSWORD
import { createHmac, generateKeyPairSync, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hash, verify } from '@node-rs/argon2';
import Provider, { errors, type Configuration } from 'oidc-provider';
import { settings } from '../src/config/settings.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`floor-server: ${name} is not set`);
  return value;
}

const port = Number(required('FLOOR_PORT'));
const clientId = required('FLOOR_CLIENT_ID');
const clientSecret = required('FLOOR_CLIENT_SECRET');
const resource = required('FLOOR_RESOURCE');
const webClientId = required('FLOOR_WEB_CLIENT_ID');
const webClientSecret = required('FLOOR_WEB_CLIENT_SECRET');
const username = required('FLOOR_USERNAME');
const password = required('FLOOR_PASSWORD');
const ACCOUNT = 'floor-user';
const USER_SCOPE = 'openid profile email roles';
const issuer = `http://127.0.0.1:${port}`;

// The same key type Caregate signs with by default (a P-256 key per tenant).
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' };

const configuration: Configuration = {
  // No adapter: oidc-provider's development in-memory adapter (the cheapest possible store). It
  // warns about this on stderr, which the benchmark ignores.
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      // Only an ES256 key is configured (Caregate's clientDefaults do the same).
      id_token_signed_response_alg: 'ES256',
    },
    {
      client_id: webClientId,
      client_secret: webClientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://rp.bench.invalid/callback'],
      id_token_signed_response_alg: 'ES256',
    },
  ],
  // One account with the claims a Caregate user's userinfo answer carries for the same scopes.
  claims: { openid: ['sub'], profile: ['name', 'given_name', 'family_name', 'preferred_username'], email: ['email', 'email_verified'], roles: ['roles'] },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: 'Floor User', given_name: 'Floor', family_name: 'User', preferred_username: 'floor.user', email: 'floor.user@example.org', email_verified: true, roles: ['reporting_user'] }),
  }),
  jwks: { keys: [jwk as never] },
  cookies: { keys: ['floor-cookie-key-not-used-by-client-credentials'] },
  rotateRefreshToken: true,
  // As Caregate's: a client allowed the refresh-token grant gets a refresh token at sign-in.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  interactions: { url: async (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: { ClientCredentials: 900 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => false,
      getResourceServerInfo: async (_ctx, requested) => {
        if (requested !== resource) throw new errors.InvalidTarget('unknown resource indicator');
        return { scope: 'reports:read', audience: requested, accessTokenTTL: 900, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
};

const provider = new Provider(issuer, configuration);

/** What a code flow leaves behind: a grant of USER_SCOPE to the web client, and an opaque access token on it. */
async function mintUserToken(): Promise<string> {
  const client = await provider.Client.find(webClientId);
  if (!client) throw new Error(`no client ${webClientId}`);
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: webClientId });
  grant.addOIDCScope(USER_SCOPE);
  const grantId = await grant.save();
  return new provider.AccessToken({ accountId: ACCOUNT, client, grantId, scope: USER_SCOPE, gty: 'authorization_code' }).save();
}

/**
 * What a code flow with the API's resource leaves behind for the refresh figure: a sign-in session,
 * a grant, and a refresh token on both. Without offline_access a refresh token lives with its
 * session (oidc-provider's default expiresWithSession, which Caregate keeps), so each refresh also
 * looks the session up, as Caregate's does, and the ID token carries sid and auth_time.
 */
async function mintRefreshToken(): Promise<string> {
  const client = await provider.Client.find(webClientId);
  if (!client) throw new Error(`no client ${webClientId}`);
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: webClientId });
  grant.addOIDCScope(USER_SCOPE);
  grant.addResourceScope(resource, 'reports:read');
  const grantId = await grant.save();
  const authTime = Math.floor(Date.now() / 1000);
  const sid = randomUUID();
  // oidc-provider's types give Session neither the payload its constructor takes nor the time to
  // live its save requires (it throws without one).
  const Session = provider.Session as unknown as new (payload: object) => { uid: string; save(ttl: number): Promise<unknown> };
  const session = new Session({ accountId: ACCOUNT, loginTs: authTime, amr: ['pwd'], authorizations: { [webClientId]: { sid, grantId } } });
  await session.save(3600);
  return new provider.RefreshToken({
    accountId: ACCOUNT, client, grantId, scope: USER_SCOPE, gty: 'authorization_code', resource,
    expiresWithSession: true, sessionUid: session.uid, sid, authTime, amr: ['pwd'],
  }).save();
}

// @node-rs/argon2 exports Algorithm as a const enum, which erasable TypeScript cannot import.
const ARGON2ID = 2;
const passwordHash = await hash(password, {
  algorithm: ARGON2ID,
  memoryCost: settings.argon2MemoryKib.schema.parse(process.env.CAREGATE_ARGON2_MEMORY_KIB ?? settings.argon2MemoryKib.default),
  timeCost: settings.argon2TimeCost.schema.parse(process.env.CAREGATE_ARGON2_TIME_COST ?? settings.argon2TimeCost.default),
  parallelism: 1,
});

// The CSRF field: a MAC of the interaction's uid, so checking it needs no store.
const csrfKey = randomBytes(32);
const csrfOf = (uid: string) => createHmac('sha256', csrfKey).update(uid).digest('base64url');
const sameCsrf = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

async function body(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

/** GET /interaction/:uid: the login form. POST /interaction/:uid/login: the password, then back to oidc-provider. */
async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    const html = `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${details.uid}/login">`
      + `<input type="hidden" name="csrf" value="${csrfOf(details.uid)}"><input name="username"><input name="password" type="password"><button>Sign in</button></form>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    return;
  }
  const form = await body(req);
  if (!sameCsrf(form.get('csrf') ?? '', csrfOf(details.uid))) {
    res.writeHead(403).end('csrf');
    return;
  }
  if (form.get('username') !== username || !(await verify(passwordHash, form.get('password') ?? ''))) {
    res.writeHead(401).end('wrong username or password');
    return;
  }
  const { params } = details;
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: String(params.client_id) });
  grant.addOIDCScope(String(params.scope));
  if (params.resource) grant.addResourceScope(String(params.resource), 'reports:read');
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId: ACCOUNT, amr: ['pwd'] }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = createServer((req, res) => {
  if (req.url?.startsWith('/interaction/')) {
    interaction(req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(400).end(error.message);
    });
    return;
  }
  if (req.method === 'POST' && (req.url === '/bench/user-token' || req.url === '/bench/refresh-token')) {
    (req.url === '/bench/user-token' ? mintUserToken() : mintRefreshToken()).then(
      (token) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })),
      (error: Error) => res.writeHead(500).end(error.message),
    );
    return;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.once('SIGTERM', stop).once('SIGINT', stop);
