// Online decisions: asks the tenant's decision endpoint (OpenID AuthZEN Authorization API 1.0,
// POST {issuer}/access/v1/evaluation) with the application's client id and secret. Use it where a
// token cannot answer — access taken away since the token was issued, a time window that just
// closed — and can() everywhere else: can() costs nothing, check() a round trip.
import type { CaregateClaims } from './caregate-claims.ts';
import type { CanContext } from './can.ts';

export interface CheckerOptions {
  /** The tenant's issuer, as tokens carry it: `https://id.example.org/t/acme`. */
  issuer: string;
  /** The application's client id and secret (a confidential application). */
  clientId: string;
  clientSecret: string;
  /** Replaces the global fetch (a proxy agent, a test). */
  fetch?: typeof fetch;
}

export interface CheckContext extends CanContext {
  /** `service_account` when the subject is an application's service account (a client-credentials token). Default `user`. */
  subjectType?: 'user' | 'service_account';
  /** The record asked about, for your logs and Caregate's (it decides from the properties above). Default `{ type: 'record', id: 'unspecified' }`. */
  resource?: { type: string; id: string };
}

/** The answer with Caregate's reason for a "no" (`permission_not_held`, `own_records_only`, `amount_over_limit`, `unknown_subject`…). */
export interface Decision {
  decision: boolean;
  context?: { reason?: string } & Record<string, unknown>;
}

/** The decision endpoint refused the question itself (wrong credentials 401, a permission outside the application's catalogue 403, a malformed question 400). */
export class CheckError extends Error {
  override readonly name = 'CheckError';
  readonly status: number;
  /** Caregate's error code: `invalid_client`, `outside_catalogue`, `invalid_request`… */
  readonly code: string | undefined;

  constructor(status: number, code: string | undefined, description: string | undefined) {
    super(`The decision endpoint answered ${status}${code ? ` ${code}` : ''}${description ? `: ${description}` : ''}`);
    this.status = status;
    this.code = code;
  }
}

export interface Checker {
  /**
   * Whether the subject (a verified token's claims, or a user id) may perform `permission` in
   * `context`, as Caregate decides it now. Throws CheckError when the question is refused, and
   * passes network failures through: treat any throw as "no".
   */
  check(subject: CaregateClaims | string, permission: string, context?: CheckContext): Promise<boolean>;
  /** The same question, answered with Caregate's reason for a "no". */
  decide(subject: CaregateClaims | string, permission: string, context?: CheckContext): Promise<Decision>;
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded, then joined for HTTP Basic. */
const basicAuth = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

export function createChecker({ issuer, clientId, clientSecret, fetch: fetchImpl = globalThis.fetch }: CheckerOptions): Checker {
  const endpoint = `${issuer.replace(/\/$/, '')}/access/v1/evaluation`;
  const authorization = basicAuth(clientId, clientSecret);

  async function decide(subject: CaregateClaims | string, permission: string, context: CheckContext = {}): Promise<Decision> {
    const id = typeof subject === 'string' ? subject : subject.sub;
    if (!id) throw new TypeError('check() needs a subject: a user id, or claims with a sub');
    const { location, institution, ownerId, amount, subjectType = 'user', resource = { type: 'record', id: 'unspecified' } } = context;
    const body = {
      subject: { type: subjectType, id },
      action: { name: permission },
      resource: { ...resource, properties: { location, institution, ownerId } },
      ...(amount !== undefined ? { context: { amount } } : {}),
    };
    const res = await fetchImpl(endpoint, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await res.json().catch(() => undefined)) as (Decision & { error?: string; error_description?: string }) | undefined;
    if (res.status !== 200 || typeof answer?.decision !== 'boolean') throw new CheckError(res.status, answer?.error, answer?.error_description);
    return { decision: answer.decision, ...(answer.context ? { context: answer.context } : {}) };
  }

  return {
    decide,
    async check(subject, permission, context) {
      return (await decide(subject, permission, context)).decision === true;
    },
  };
}
