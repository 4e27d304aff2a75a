// Client-credentials token requests per second with autocannon: the same request (POST /token,
// grant_type=client_credentials, resource=…, HTTP Basic client authentication) against the floor and
// against Caregate. Each response is a freshly signed ES256 JWT access token, so a request's cost
// is at least one signature.
import { measureRequest, type HttpRequest, type Load } from './http-load.ts';
import type { Figure } from './stats.ts';

export type { Load };

export interface TokenTarget {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  resource: string;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
export function basicAuth(clientId: string, clientSecret: string): string {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
}

export function clientCredentialsRequest(target: TokenTarget): HttpRequest {
  return {
    url: target.tokenUrl,
    method: 'POST',
    headers: { authorization: basicAuth(target.clientId, target.clientSecret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: target.resource }).toString(),
  };
}

export interface TokenSample {
  /** Length of the access token, characters. */
  tokenLength: number;
  /** Claim names in the access token. */
  claims: string[];
}

/** One request first, so a misconfiguration fails loudly instead of measuring error responses. */
export async function checkClientCredentials(target: TokenTarget): Promise<TokenSample> {
  const res = await fetch(target.tokenUrl, clientCredentialsRequest(target));
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`client credentials at ${target.tokenUrl}: HTTP ${res.status} ${JSON.stringify(body)}`);
  const [header, payload] = body.access_token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
  if (header?.alg !== 'ES256' || header.typ !== 'at+jwt') throw new Error(`expected an ES256 JWT access token, got header ${JSON.stringify(header)}`);
  if (payload?.aud !== target.resource) throw new Error(`access token audience ${String(payload?.aud)}, expected ${target.resource}`);
  return { tokenLength: body.access_token.length, claims: Object.keys(payload) };
}

export function measureClientCredentials(target: TokenTarget, load: Load): Promise<Figure> {
  return measureRequest(clientCredentialsRequest(target), load);
}
