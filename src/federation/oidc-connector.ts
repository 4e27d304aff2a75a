// An upstream OpenID Provider (Okta, Entra ID, Google Workspace, any certified OP) through
// openid-client: discovery, authorization code + PKCE with state and nonce, ID token validation
// (issuer, audience, signature, expiry, nonce), userinfo, and each preset's own checks — Entra's
// tenant (`tid`) and group overage, Google's hosted domain (`hd`).
import { webcrypto } from 'node:crypto';
import * as client from 'openid-client';
import type { Connection } from '../storage/index.ts';
import { UpstreamError, type CallbackConnector, type TestFinding, type UpstreamIdentity } from '../upstream/index.ts';
import type { ConnectionSecrets, OidcSettings } from './connection-settings.ts';
import { toOidcUpstreamError } from './oidc-errors.ts';

export interface OidcConnectorDeps {
  /** The callback URL registered with the upstream. */
  redirectUri: string;
  /** Discovery results by connection, reused until the connection changes (an hour at most). */
  discoveries: Map<string, { at: number; config: Promise<client.Configuration> }>;
  fetch?: typeof fetch;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const DISCOVERY_TTL_MS = 3600_000;
const MFA_METHODS = new Set(['mfa', 'otp', 'hwk', 'swk', 'sms', 'tel', 'fpt', 'face', 'iris', 'retina', 'vbm', 'sc']);
const GRAPH_PAGES = 20;

export function issuerOf(settings: OidcSettings): string {
  if (settings.issuer) return settings.issuer;
  return `https://login.microsoftonline.com/${settings.entraTenant}/v2.0`;
}

export function scopesOf(settings: OidcSettings): string[] {
  if (settings.scopes?.length) return [...new Set(['openid', ...settings.scopes])];
  return ['openid', 'profile', 'email', ...(settings.preset === 'okta' ? ['groups'] : [])];
}

/** Every claim as a list of strings, so mapping rules test one shape whatever the upstream sent. */
function asAttributes(claims: Record<string, unknown>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(claims)) {
    const list = (Array.isArray(value) ? value : [value]).filter((v) => ['string', 'number', 'boolean'].includes(typeof v)).map(String);
    if (list.length) out[name] = list.slice(0, 2000);
  }
  return out;
}

const str = (v: unknown) => (typeof v === 'string' && v.length ? v.slice(0, 512) : undefined);

export function createOidcConnector(connection: Connection, settings: OidcSettings, secrets: ConnectionSecrets, deps: OidcConnectorDeps) {
  const issuer = issuerOf(settings);

  async function clientAuth(): Promise<client.ClientAuth> {
    if (settings.clientAuth === 'private_key_jwt') {
      const { kid, ...jwk } = secrets.privateJwk as unknown as webcrypto.JsonWebKey & { kid: string };
      const key = await webcrypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
      return client.PrivateKeyJwt({ key, kid } as client.PrivateKey);
    }
    return settings.clientAuth === 'client_secret_post' ? client.ClientSecretPost(secrets.clientSecret) : client.ClientSecretBasic(secrets.clientSecret);
  }

  /** Discovery, cached; a failed discovery is not kept (the next sign-in tries again). */
  function configuration(): Promise<client.Configuration> {
    const cacheKey = `${connection.id}:${connection.updatedAt.getTime()}`;
    const cached = deps.discoveries.get(cacheKey);
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.config;
    const config = (async () => {
      const url = new URL(issuer);
      const execute = LOOPBACK.has(url.hostname) && url.protocol === 'http:' ? [client.allowInsecureRequests] : [];
      const metadata: Partial<client.ClientMetadata> = { [client.clockTolerance]: settings.clockSkewSeconds };
      const options: client.DiscoveryRequestOptions = { execute, timeout: settings.timeoutSeconds, ...(deps.fetch ? { [client.customFetch]: deps.fetch } : {}) };
      const config = await client.discovery(url, settings.clientId, metadata, await clientAuth(), options);
      config.timeout = settings.timeoutSeconds;
      // Verify the ID token's signature even though it came straight from the token endpoint over
      // TLS (OIDC Core 3.1.3.7 lets a client skip it; a forged token must not pass here).
      client.enableNonRepudiationChecks(config);
      return config;
    })();
    deps.discoveries.set(cacheKey, { at: Date.now(), config });
    config.catch(() => deps.discoveries.delete(cacheKey));
    return config;
  }

  /** The preset's own checks on the validated ID token claims. */
  function checkPreset(claims: Record<string, unknown>) {
    if (settings.preset === 'entra') {
      const tid = str(claims.tid);
      const single = settings.entraTenant && !['organizations', 'common'].includes(settings.entraTenant) ? settings.entraTenant.toLowerCase() : undefined;
      const allowed = settings.allowedTenants.map((t) => t.toLowerCase());
      if (!tid || (single && tid.toLowerCase() !== single) || (allowed.length && !allowed.includes(tid.toLowerCase()))) {
        throw new UpstreamError('tenant_not_allowed', `Entra tenant ${tid ?? '(none)'} is not accepted by this connection`);
      }
    }
    if (settings.preset === 'google') {
      const hd = str(claims.hd)?.toLowerCase();
      if (!hd || !settings.hostedDomains.includes(hd)) throw new UpstreamError('domain_not_allowed', `Google account domain ${hd ?? '(personal account)'} is not accepted by this connection`);
    }
  }

  /** Entra's group overage: over ~200 groups the token names a Graph query instead of listing them. */
  async function overageGroups(claims: Record<string, unknown>, accessToken: string): Promise<string[] | undefined> {
    const names = claims._claim_names as Record<string, unknown> | undefined;
    if (settings.preset !== 'entra' || !names || !(settings.groupsClaim in names)) return undefined;
    const groups: string[] = [];
    let next: string | undefined = `${settings.graphUrl.replace(/\/$/, '')}/v1.0/me/transitiveMemberOf/microsoft.graph.group?$select=id&$top=999`;
    const graphOrigin = new URL(settings.graphUrl).origin;
    try {
      for (let page = 0; next && page < GRAPH_PAGES; page++) {
        // Follow only links on the configured Graph host: the token must not travel elsewhere.
        if (new URL(next).origin !== graphOrigin) throw new Error(`next link leaves ${graphOrigin}`);
        const response = await (deps.fetch ?? fetch)(next, { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(settings.timeoutSeconds * 1000) });
        if (!response.ok) throw new Error(`Microsoft Graph answered ${response.status}`);
        const body = (await response.json()) as { value?: Array<{ id?: string }>; '@odata.nextLink'?: string };
        groups.push(...(body.value ?? []).map((g) => g.id).filter((id): id is string => typeof id === 'string'));
        next = body['@odata.nextLink'];
      }
      if (next) throw new Error(`more than ${GRAPH_PAGES} pages of groups`);
    } catch (error) {
      throw new UpstreamError('groups_unavailable', `group overage: ${(error as Error).message}`);
    }
    return groups;
  }

  return {
    kind: 'callback',

    async start({ state, loginHint }) {
      const config = await configuration().catch(toOidcUpstreamError);
      const codeVerifier = client.randomPKCECodeVerifier();
      const nonce = client.randomNonce();
      const params: Record<string, string> = {
        redirect_uri: deps.redirectUri,
        scope: scopesOf(settings).join(' '),
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      };
      if (loginHint) params.login_hint = loginHint;
      // Google shows only accounts of the domain (a convenience: the hd claim is what is checked).
      if (settings.preset === 'google') params.hd = settings.hostedDomains.length === 1 ? settings.hostedDomains[0]! : '*';
      return { url: client.buildAuthorizationUrl(config, params).href, transaction: { codeVerifier, nonce, state } };
    },

    async finish(callback, transaction) {
      try {
        const config = await configuration();
        const tokens = await client.authorizationCodeGrant(config, new URL(callback.url), {
          pkceCodeVerifier: transaction.codeVerifier,
          expectedNonce: transaction.nonce,
          expectedState: transaction.state,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims()! as Record<string, unknown>;
        checkPreset(idClaims);
        const info = settings.userinfo && config.serverMetadata().userinfo_endpoint
          ? ((await client.fetchUserInfo(config, tokens.access_token, String(idClaims.sub))) as Record<string, unknown>)
          : {};
        // ID token claims win: they are signed; userinfo fills in what they lack.
        const claims = { ...info, ...idClaims };
        const claimed = asAttributes(claims);
        const groups = (await overageGroups(claims, tokens.access_token)) ?? claimed[settings.groupsClaim] ?? [];
        const amr = claimed.amr ?? [];
        const attributes = { ...claimed, groups };
        return {
          upstream: `federation:${connection.key}`,
          subject: String(idClaims.sub),
          email: str(claims.email)?.toLowerCase(),
          // Entra says so with xms_edov (email domain owner verified), others with email_verified.
          emailVerified: claims.email_verified === true || claims.xms_edov === true || claims.xms_edov === '1',
          username: str(claims[settings.usernameClaim]),
          displayName: str(claims.name) ?? ([str(claims.given_name), str(claims.family_name)].filter(Boolean).join(' ') || undefined),
          phone: str(claims.phone_number),
          attributes,
          mfa: amr.some((m) => MFA_METHODS.has(m)),
        } satisfies UpstreamIdentity;
      } catch (error) {
        return toOidcUpstreamError(error);
      }
    },

    async test() {
      const findings: TestFinding[] = [];
      try {
        const config = await configuration();
        const meta = config.serverMetadata();
        findings.push({ check: 'discovery', ok: true, detail: `${issuer}/.well-known/openid-configuration answered; issuer ${meta.issuer}` });
        const scopes = scopesOf(settings).filter((s) => meta.scopes_supported && !meta.scopes_supported.includes(s));
        findings.push({ check: 'scopes', ok: !scopes.length, detail: scopes.length ? `not advertised by the upstream: ${scopes.join(', ')}` : `${scopesOf(settings).join(' ')} supported` });
        const pkce = meta.code_challenge_methods_supported;
        findings.push({ check: 'pkce', ok: !pkce || pkce.includes('S256'), detail: pkce ? `code_challenge_methods_supported: ${pkce.join(', ')}` : 'not advertised (PKCE is sent anyway)' });
        const auth = meta.token_endpoint_auth_methods_supported;
        findings.push({ check: 'client authentication', ok: !auth || auth.includes(settings.clientAuth), detail: auth ? `${settings.clientAuth}; upstream supports ${auth.join(', ')}` : settings.clientAuth });
        // The upstream's answer to a client that does not exist or whose secret is wrong: the
        // token endpoint says invalid_client before it looks at the code.
        try {
          const probe = new URL(deps.redirectUri);
          probe.search = new URLSearchParams({ code: 'caregate-connection-test', state: 't', iss: meta.issuer }).toString();
          await client.authorizationCodeGrant(config, probe, { expectedState: 't', idTokenExpected: true });
        } catch (error) {
          const e = error as { error?: string; cause?: Array<{ parameters?: { error?: string } }> };
          const code = e.error ?? (error instanceof client.WWWAuthenticateChallengeError ? e.cause?.[0]?.parameters?.error : undefined);
          findings.push({ check: 'client credentials', ok: code !== 'invalid_client' && code !== 'unauthorized_client', detail: code === 'invalid_client' ? 'the upstream rejects this client id or secret (invalid_client)' : `token endpoint reached (${code ?? (error as Error).message})` });
        }
      } catch (error) {
        const refused = (() => { try { return toOidcUpstreamError(error); } catch (e) { return e as UpstreamError; } })();
        findings.push({ check: 'discovery', ok: false, detail: `${issuer}: ${refused.detail}` });
      }
      return findings;
    },
  } satisfies CallbackConnector;
}
