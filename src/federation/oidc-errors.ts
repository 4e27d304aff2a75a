// openid-client's errors, translated into the reasons a refused upstream sign-in is audited with.
import * as client from 'openid-client';
import { UpstreamError } from '../upstream/index.ts';

const CLAIM_REASONS = { iss: 'wrong_issuer', aud: 'wrong_audience', azp: 'wrong_audience', nonce: 'replayed' } as const;

export function toOidcUpstreamError(error: unknown): never {
  if (error instanceof UpstreamError) throw error;
  const e = error as Error & { code?: string; error?: string; error_description?: string; cause?: any };
  if (error instanceof client.AuthorizationResponseError) {
    throw new UpstreamError(e.error === 'access_denied' ? 'access_denied' : 'upstream_error', `authorization response: ${e.error}${e.error_description ? ` (${e.error_description})` : ''}`);
  }
  if (error instanceof client.ResponseBodyError) {
    // A code used twice, or one issued to someone else: the upstream says invalid_grant.
    throw new UpstreamError(e.error === 'invalid_grant' ? 'replayed' : 'upstream_error', `token endpoint: ${e.error}${e.error_description ? ` (${e.error_description})` : ''}`);
  }
  if (error instanceof client.WWWAuthenticateChallengeError) {
    // The token endpoint refused Caregate's client authentication (a wrong secret, a removed client).
    throw new UpstreamError('upstream_error', `token endpoint refused the client: ${(e.cause as Array<{ parameters?: { error?: string } }>)?.[0]?.parameters?.error ?? 'unauthorized'}`);
  }
  switch (e.code) {
    case 'OAUTH_TIMEOUT':
      throw new UpstreamError('upstream_timeout', 'the upstream did not answer in time');
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED': {
      // openid-client wraps oauth4webapi's error, whose own cause names the claim.
      const claim = (e.cause?.cause?.claim ?? e.cause?.claim) as keyof typeof CLAIM_REASONS | undefined;
      throw new UpstreamError((claim && CLAIM_REASONS[claim]) || 'invalid_response', `ID token ${claim ?? 'claim'} check failed: ${e.cause?.message ?? e.message}`);
    }
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
      throw new UpstreamError('expired', `ID token ${e.cause?.cause?.claim ?? e.cause?.claim ?? 'timestamp'} check failed`);
    case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
      throw new UpstreamError(e.cause?.attribute === 'state' || /state/.test(e.cause?.message ?? '') ? 'state_mismatch' : 'wrong_issuer', e.cause?.message ?? e.message);
    case 'OAUTH_INVALID_RESPONSE':
      throw new UpstreamError(/signature/i.test(e.cause?.message ?? '') ? 'invalid_signature' : 'invalid_response', e.cause?.message ?? e.message);
    case 'OAUTH_KEY_SELECTION_FAILED':
      throw new UpstreamError('invalid_signature', 'no key of the upstream matches the ID token signature');
  }
  const network = networkFailure(error);
  if (network) throw new UpstreamError('upstream_unreachable', network);
  if (e.code?.startsWith('OAUTH_')) throw new UpstreamError(e.code === 'OAUTH_RESPONSE_IS_NOT_CONFORM' ? 'upstream_error' : 'invalid_response', `${e.message}${e.cause?.message ? `: ${e.cause.message}` : ''}`);
  throw error as Error;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

/** fetch's "fetch failed" (a TypeError, maybe wrapped by openid-client) with the socket's reason beneath. */
function networkFailure(error: unknown): string | undefined {
  let fetchFailed = false;
  for (let e = error as { name?: string; message?: string; code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.code && NETWORK_CODES.has(e.code)) return `${e.code}: ${e.message ?? ''}`.slice(0, 300);
    if (e.name === 'TypeError' && e.message === 'fetch failed') fetchFailed = true;
  }
  return fetchFailed ? 'fetch failed' : undefined;
}
