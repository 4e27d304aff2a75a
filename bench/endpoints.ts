// The endpoints a relying application calls besides /token, each one request repeated by
// autocannon, against the floor (bare oidc-provider) and Caregate alike:
//   introspection: POST {introspection_endpoint}, token=<access token>, the confidential client that
//                  holds the token authenticating with HTTP Basic (RFC 7662);
//   userinfo:      GET {userinfo_endpoint}, Authorization: Bearer <the same access token>;
//   discovery:     GET {issuer}/.well-known/openid-configuration.
// The token is an opaque user access token with scope openid profile email roles, bound to its grant:
// from a password sign-in without a resource indicator at Caregate, minted the same way by the
// floor (bench/floor-server.ts). Endpoint URLs come from each server's discovery document.
import type { CaregateInstance } from './caregate-instance.ts';
import { basicAuth } from './client-credentials.ts';
import { measureRequest, type HttpRequest, type Load } from './http-load.ts';
import { loginFlow } from './login-flow.ts';
import type { Figure } from './stats.ts';

export interface EndpointTarget {
  issuer: string;
  /** The confidential client the access token was issued to. */
  clientId: string;
  clientSecret: string;
  /** Opaque, scope openid (and profile email roles), for no resource but userinfo. */
  accessToken: string;
}

export interface EndpointSample {
  /** Fields of the introspection answer (active: true). */
  introspection: string[];
  /** Claims of the userinfo answer. */
  userinfo: string[];
  /** Size of the discovery document, bytes. */
  discoveryBytes: number;
}

export interface EndpointFigures {
  introspection: Figure;
  userinfo: Figure;
  discovery: Figure;
}

interface Requests {
  introspection: HttpRequest;
  userinfo: HttpRequest;
  discovery: HttpRequest;
}

/** The three requests, from the server's discovery document (fetched here). */
export async function endpointRequests(target: EndpointTarget): Promise<Requests & { discoveryBytes: number }> {
  const url = `${target.issuer}/.well-known/openid-configuration`;
  const res = await fetch(url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`discovery at ${url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const doc = JSON.parse(text) as { introspection_endpoint?: string; userinfo_endpoint?: string };
  if (!doc.introspection_endpoint || !doc.userinfo_endpoint) throw new Error(`discovery at ${url} names no introspection or userinfo endpoint`);
  return {
    discoveryBytes: Buffer.byteLength(text),
    discovery: { url, method: 'GET', headers: { accept: 'application/json' } },
    introspection: {
      url: doc.introspection_endpoint,
      method: 'POST',
      headers: { authorization: basicAuth(target.clientId, target.clientSecret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ token: target.accessToken }).toString(),
    },
    userinfo: { url: doc.userinfo_endpoint, method: 'GET', headers: { authorization: `Bearer ${target.accessToken}`, accept: 'application/json' } },
  };
}

async function json(request: HttpRequest): Promise<Record<string, unknown>> {
  const res = await fetch(request.url, request);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${request.method} ${request.url}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** One request of each first, so a misconfiguration fails loudly instead of measuring error answers. */
export async function checkEndpoints(target: EndpointTarget): Promise<EndpointSample> {
  const r = await endpointRequests(target);
  const introspection = await json(r.introspection);
  if (introspection.active !== true) throw new Error(`introspection at ${r.introspection.url}: the token is not active (${JSON.stringify(introspection)})`);
  const userinfo = await json(r.userinfo);
  if (typeof userinfo.sub !== 'string') throw new Error(`userinfo at ${r.userinfo.url}: no sub (${JSON.stringify(userinfo)})`);
  return { introspection: Object.keys(introspection), userinfo: Object.keys(userinfo), discoveryBytes: r.discoveryBytes };
}

export async function measureEndpoints(target: EndpointTarget, load: Load): Promise<EndpointFigures> {
  const r = await endpointRequests(target);
  return {
    introspection: await measureRequest(r.introspection, load),
    userinfo: await measureRequest(r.userinfo, load),
    discovery: await measureRequest(r.discovery, load),
  };
}

/** Caregate's access token and client for these figures: a password sign-in without a resource indicator. */
export async function caregateEndpointTarget(cg: CaregateInstance): Promise<EndpointTarget> {
  const { tokens } = await loginFlow({ ...cg.web, resource: '' }, cg.user);
  return { issuer: cg.web.issuer, clientId: cg.web.clientId, clientSecret: cg.web.clientSecret, accessToken: tokens.access_token };
}
