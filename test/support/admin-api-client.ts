// The admin REST API as the integration suites reach it: a confidential client_credentials
// application whose service account holds some roles, its (opaque) access token for the admin API
// resource from the tenant's issuer (through openid-client), its introspection and revocation there,
// JSON calls, and the check that a refused call wrote nothing (no audit event, so no change).
import { expect } from '@jest/globals';
import * as oidc from 'openid-client';
import type { TestCaregate } from './caregate.ts';

const cli = { type: 'cli' as const, id: 'test' };

export interface AdminReply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ServiceClient {
  clientId: string;
  clientSecret: string;
}

export interface AdminApi {
  /** `{base}/admin/api`: the resource tokens are issued for. */
  readonly url: string;
  /** A service account of demo holding `admin`, and its token (the default for `call`). */
  readonly admin: ServiceClient & { token: string };
  serviceClient(tenant: string, roles: string[]): Promise<ServiceClient>;
  token(tenant: string, client: ServiceClient): Promise<string>;
  /** RFC 7662 introspection of `token` at the tenant's issuer, authenticated as `client`. */
  introspect(client: ServiceClient, token: string, tenant?: string): Promise<oidc.IntrospectionResponse>;
  /** RFC 7009 revocation of `token` at the tenant's issuer, authenticated as `client`; the HTTP status. */
  revoke(client: ServiceClient, token: string, tenant?: string): Promise<number>;
  /** `path` under `/v1/t/demo`, or from the base URL when it starts with `/admin/`. */
  call<T = any>(method: string, path: string, options?: { token?: string | null; body?: unknown; raw?: string }): Promise<AdminReply<T>>;
  /** The newest audit sequence number of tenant demo. */
  auditHead(): Promise<string>;
  /** Runs a request that must be refused, and checks it wrote nothing. */
  refused<R>(request: () => Promise<R>): Promise<R>;
}

export async function connectAdminApi(cg: TestCaregate): Promise<AdminApi> {
  const url = `${cg.baseUrl}/admin/api`;

  async function serviceClient(tenant: string, roles: string[]): Promise<ServiceClient> {
    const app = await cg.runtime.accounts.applications.create(tenant, { name: `svc ${roles.join(',')}`, grantTypes: ['client_credentials'], serviceRoles: roles, adminApi: true }, cli);
    return { clientId: app.client_id, clientSecret: app.client_secret! };
  }

  const discover = (tenant: string, client: ServiceClient) =>
    oidc.discovery(new URL(cg.issuer(tenant)), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });

  async function token(tenant: string, client: ServiceClient): Promise<string> {
    // openid-client v6 sends extra token endpoint parameters (here the RFC 8707 resource) as the second argument.
    return (await oidc.clientCredentialsGrant(await discover(tenant, client), { resource: url })).access_token;
  }

  async function introspect(client: ServiceClient, value: string, tenant = 'demo') {
    return oidc.tokenIntrospection(await discover(tenant, client), value);
  }

  // Plain HTTP rather than openid-client, so a test sees the status the endpoint answers.
  async function revoke(client: ServiceClient, value: string, tenant = 'demo'): Promise<number> {
    const res = await fetch(`${cg.issuer(tenant)}/token/revocation`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: value }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  const adminClient = await serviceClient('demo', ['admin']);
  const admin = { ...adminClient, token: await token('demo', adminClient) };

  async function call<T = any>(method: string, path: string, { token: bearer = admin.token, body, raw }: { token?: string | null; body?: unknown; raw?: string } = {}): Promise<AdminReply<T>> {
    const headers: Record<string, string> = {};
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined || raw !== undefined) headers['content-type'] = 'application/json';
    const target = path.startsWith('/admin/') ? `${cg.baseUrl}${path}` : `${url}/v1/t/demo${path}`;
    const res = await fetch(target, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  async function auditHead(): Promise<string> {
    const [row] = await cg.runtime.storage.query<{ seq: string }>("SELECT max(seq)::text AS seq FROM audit_events e JOIN tenants t ON t.id = e.tenant_id WHERE t.slug = 'demo'");
    return row!.seq;
  }

  async function refused<R>(request: () => Promise<R>): Promise<R> {
    const before = await auditHead();
    const reply = await request();
    expect(await auditHead()).toBe(before);
    return reply;
  }

  return { url, admin, serviceClient, token, introspect, revoke, call, auditHead, refused };
}
