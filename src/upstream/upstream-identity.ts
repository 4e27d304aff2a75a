// What every upstream identity source answers, whatever its protocol (CONVENTIONS point 5, after
// dex's connector interfaces): LDAP checks a password (`PasswordConnector`); OIDC and SAML answer
// a browser's return (`CallbackConnector`). Both yield one `UpstreamIdentity`, which JIT
// provisioning and mapping rules consume without knowing where it came from.
import { CaregateError } from '../errors.ts';

export interface UpstreamIdentity {
  /** `federation:<connection key>` or `ldap:<source key>`: with `subject`, names one person. */
  upstream: string;
  /** The upstream's stable, never-reassigned id for the person (OIDC `sub`, SAML NameID, LDAP entryUUID/objectGUID). */
  subject: string;
  email?: string;
  /** Whether the upstream vouches that the person controls `email`. */
  emailVerified: boolean;
  username?: string;
  displayName?: string;
  phone?: string;
  /** What mapping rules test: groups, department, title and any other claim or attribute, as lists of strings. */
  attributes: Record<string, string[]>;
  /** The upstream reports a second factor (OIDC amr "mfa"/"otp"/…, a SAML MFA AuthnContext). */
  mfa: boolean;
}

/** What a browser brings back from an upstream sign-in. */
export interface CallbackInput {
  /** The callback URL as received, query included (OIDC). */
  url: string;
  /** Form fields posted to it (SAML HTTP-POST). */
  form: Record<string, string>;
}

/** A problem found by `connection test`: which check, and what is wrong. */
export interface TestFinding {
  check: string;
  ok: boolean;
  detail: string;
}

export interface CallbackConnector {
  readonly kind: 'callback';
  /**
   * Where to send the browser. `transaction` holds what the return must match (nonce, PKCE
   * verifier, request ID); the caller keeps it server-side and hands it back to `finish`.
   */
  start(input: { state: string; loginHint?: string }): Promise<{ url: string; transaction: Record<string, string> }>;
  finish(callback: CallbackInput, transaction: Record<string, string>): Promise<UpstreamIdentity>;
  /** Checks the configuration against the live upstream, without signing anyone in. */
  test(): Promise<TestFinding[]>;
}

export interface PasswordConnector {
  readonly kind: 'password';
  /** The person, when the directory accepts the password; null when it does not. */
  verify(username: string, password: string): Promise<UpstreamIdentity | null>;
  test(): Promise<TestFinding[]>;
}

/** Why an upstream sign-in was refused; `reason` goes to the audit log, the message to the person. */
export type UpstreamReason =
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'upstream_error'
  | 'access_denied'
  | 'invalid_response'
  | 'invalid_signature'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'replayed'
  | 'expired'
  | 'state_mismatch'
  | 'email_unverified'
  | 'email_taken'
  | 'tenant_not_allowed'
  | 'domain_not_allowed'
  | 'groups_unavailable'
  | 'not_provisioned'
  | 'not_active'
  | 'mapping_refused'
  | 'connection_disabled';

const MESSAGES: Record<UpstreamReason, string> = {
  upstream_unreachable: 'Your organisation’s sign-in service could not be reached. Try again in a few minutes.',
  upstream_timeout: 'Your organisation’s sign-in service did not answer in time. Try again in a few minutes.',
  upstream_error: 'Your organisation’s sign-in service reported a problem. Try again, or contact your administrator.',
  access_denied: 'Your organisation’s sign-in service did not sign you in.',
  invalid_response: 'The answer from your organisation’s sign-in service could not be accepted. Start again.',
  invalid_signature: 'The answer from your organisation’s sign-in service could not be accepted. Start again.',
  wrong_issuer: 'The answer from your organisation’s sign-in service could not be accepted. Start again.',
  wrong_audience: 'The answer from your organisation’s sign-in service could not be accepted. Start again.',
  replayed: 'This sign-in was already used. Start again.',
  expired: 'This sign-in took too long. Start again.',
  state_mismatch: 'This sign-in cannot continue in this browser. Start again.',
  email_unverified: 'Your organisation did not confirm your email address, so you cannot be signed in. Contact your administrator.',
  email_taken: 'An account with your email address already exists here and is not connected to your organisation’s sign-in. Contact your administrator.',
  tenant_not_allowed: 'Accounts from your organisation may not sign in here.',
  domain_not_allowed: 'Accounts from your organisation may not sign in here.',
  groups_unavailable: 'Your group memberships could not be read, so your access could not be set up. Try again, or contact your administrator.',
  not_provisioned: 'You do not have an account here yet. Contact your administrator.',
  not_active: 'Your account here is not active. Contact your administrator.',
  mapping_refused: 'Your access could not be set up from your organisation’s groups. Contact your administrator.',
  connection_disabled: 'Signing in with your organisation is turned off here. Contact your administrator.',
};

const STATUS: Partial<Record<UpstreamReason, number>> = {
  upstream_unreachable: 502,
  upstream_timeout: 504,
  upstream_error: 502,
  groups_unavailable: 502,
  access_denied: 403,
  tenant_not_allowed: 403,
  domain_not_allowed: 403,
  not_provisioned: 403,
  not_active: 403,
  mapping_refused: 403,
  connection_disabled: 403,
  email_taken: 409,
};

/** A refused upstream sign-in: the person sees `message`, the audit log gets `reason` and `detail`. */
export class UpstreamError extends CaregateError {
  override readonly code = 'upstream_refused';
  override readonly expose = true;
  override readonly status: number;
  readonly reason: UpstreamReason;
  readonly detail: string;

  constructor(reason: UpstreamReason, detail: string, details?: Record<string, unknown>) {
    super(MESSAGES[reason], details);
    this.reason = reason;
    this.detail = detail.slice(0, 500);
    this.status = STATUS[reason] ?? 400;
  }
}
