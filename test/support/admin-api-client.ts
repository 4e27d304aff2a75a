// The admin REST API as the integration suites reach it: a confidential client_credentials
// application whose service account holds some roles, its access token for the admin API resource
// from the tenant's issuer (through openid-client), JSON calls, and the check that a refused call
// wrote nothing (no audit event, so no change).
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
  readonly admin: { clientId: string; token: string };
  serviceClient(tenant: string, roles: string[]): Promise<ServiceClient>;
  token(tenant: string, client: ServiceClient): Promise<string>;
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

  async function token(tenant: string, client: ServiceClient): Promise<string> {
    const config = await oidc.discovery(new URL(cg.issuer(tenant)), client.clientId, client.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
    // openid-client v6 sends extra token endpoint parameters (here the RFC 8707 resource) as the second argument.
    return (await oidc.clientCredentialsGrant(config, { resource: url })).access_token;
  }

  const adminClient = await serviceClient('demo', ['admin']);
  const admin = { clientId: adminClient.clientId, token: await token('demo', adminClient) };

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

  return { url, admin, serviceClient, token, call, auditHead, refused };
}
