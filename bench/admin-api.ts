// The few admin API calls the benchmark makes outside its measured windows: create the login
// virtual users' accounts, change the tenant's security policy, read a user's lock state, and read
// the audit log (which records the real reason
// each sign-in failed, so the benchmark can show that what it measured is what it says it measured).
import { basicAuth } from './client-credentials.ts';

export interface AdminTarget {
  /** Tenant issuer (its /token issues the admin API token). */
  issuer: string;
  /** {base}/admin/api: the resource the token is for. */
  resource: string;
  /** {base}/admin/api/v1/t/{tenant} */
  apiBase: string;
  clientId: string;
  clientSecret: string;
}

/** An audit event as the admin API returns it (the fields the benchmark reads). */
export interface AuditEventJson {
  seq: string;
  action: string;
  outcome: string;
  ip: string | null;
  targetId: string | null;
  details: { reason?: string; method?: string } | null;
}

export interface LockStateJson {
  status: string;
  lock: { failures: number; locked: boolean; lockedUntil: string | null };
}

/** A page of the audit search, newest first. */
interface AuditPage {
  events: AuditEventJson[];
  nextCursor: string | null;
}

export class AdminApi {
  private token?: { value: string; until: number };
  private readonly target: AdminTarget;
  constructor(target: AdminTarget) {
    this.target = target;
  }

  /** A client-credentials access token for the admin API, renewed shortly before it expires. */
  async bearer(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const { issuer, resource, clientId, clientSecret } = this.target;
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource }),
    });
    const body = (await res.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (res.status !== 200 || !body.access_token) throw new Error(`admin API token: HTTP ${res.status} ${body.error ?? ''}`);
    this.token = { value: body.access_token, until: Date.now() + ((body.expires_in ?? 60) - 10) * 1000 };
    return body.access_token;
  }

  async call<T>(method: 'GET' | 'PATCH' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.target.apiBase}${path}`, {
      method,
      headers: { authorization: `Bearer ${await this.bearer()}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status !== 200 && res.status !== 201) throw new Error(`admin API ${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** An active user with a password and the role `role` (the same service as `caregate user create`). */
  async createUser(username: string, password: string, role: string): Promise<void> {
    await this.call('POST', '/users', { username, password, email: `${username}@example.org`, displayName: username, assignments: [{ role }] });
  }

  lockState(user: string): Promise<LockStateJson> {
    return this.call('GET', `/users/${encodeURIComponent(user)}/security`);
  }

  /** The newest audit event's sequence number (0 when the log is empty). */
  async newestAuditSeq(): Promise<bigint> {
    const { events: [event] } = await this.call<AuditPage>('GET', '/audit?limit=1');
    return event ? BigInt(event.seq) : 0n;
  }

  /** Every audit event after `seq`, newest first. */
  async auditSince(seq: bigint): Promise<AuditEventJson[]> {
    const events: AuditEventJson[] = [];
    for (let cursor: string | null = ''; cursor !== null; ) {
      const page: AuditPage = await this.call<AuditPage>('GET', `/audit?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const event of page.events) {
        if (BigInt(event.seq) <= seq) return events;
        events.push(event);
      }
      cursor = page.nextCursor;
    }
    return events;
  }
}
