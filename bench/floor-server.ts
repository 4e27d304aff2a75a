// The floor: bare oidc-provider configured like one Caregate tenant for client credentials (ES256
// key, resource indicators issuing a JWT access token) but with nothing of Caregate around it — the
// built-in in-memory adapter, one static client, no Koa app, no database. Whatever Caregate serves
// below this rate is Caregate's own cost.
//
// Runs as a child process (bench/run.ts starts it pinned to the server core) so the load generator
// does not share its event loop. Settings arrive in the environment:
//   FLOOR_PORT, FLOOR_CLIENT_ID, FLOOR_CLIENT_SECRET, FLOOR_RESOURCE
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider, { errors, type Configuration } from 'oidc-provider';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`floor-server: ${name} is not set`);
  return value;
}

const port = Number(required('FLOOR_PORT'));
const clientId = required('FLOOR_CLIENT_ID');
const clientSecret = required('FLOOR_CLIENT_SECRET');
const resource = required('FLOOR_RESOURCE');
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
  ],
  jwks: { keys: [jwk as never] },
  cookies: { keys: ['floor-cookie-key-not-used-by-client-credentials'] },
  ttl: { ClientCredentials: 900 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
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
const server = createServer(provider.callback());
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.once('SIGTERM', stop).once('SIGINT', stop);
