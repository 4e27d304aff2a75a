// What an upstream SAML IdP's refusal means: its Status, and node-saml's errors, turned into the
// reasons a refused federated sign-in is audited with.
import type { Element } from '@xmldom/xmldom';
import { SamlStatusError } from '@node-saml/node-saml';
import { attr, child, NS, SamlError, text } from '../saml/index.ts';
import { UpstreamError, type UpstreamReason } from '../upstream/index.ts';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
// Second-level status codes that mean "the person was not signed in", not "the IdP broke".
const DENIED = new Set(['AuthnFailed', 'RequestDenied', 'UnknownPrincipal', 'NoPassive']);

// node-saml reports everything as a plain Error; its messages (lib/saml.js, lib/xml.js, 5.x) are
// the only way to tell the conditions apart. First match wins.
const NODE_SAML_REASONS: Array<[RegExp, UpstreamReason]> = [
  [/InResponseTo/i, 'replayed'],
  // A SubjectConfirmation is picked by its validity window alone, so "none valid" means expired.
  [/not yet valid|expired|No valid subject confirmation/i, 'expired'],
  [/audience/i, 'wrong_audience'],
  [/issuer/i, 'wrong_issuer'],
  [/signature|signed|transforms|ID cannot refer|Referenced node/i, 'invalid_signature'],
];

/** Turns what node-saml (or our own checks) threw into the reason a refusal is audited with. */
export function toSamlUpstreamError(error: unknown): never {
  if (error instanceof UpstreamError) throw error;
  if (error instanceof SamlError) throw new UpstreamError('invalid_response', error.message);
  if (error instanceof SamlStatusError) throw new UpstreamError(/AuthnFailed|RequestDenied|UnknownPrincipal/.test(error.message) ? 'access_denied' : 'upstream_error', error.message);
  const message = (error as Error)?.message ?? String(error);
  const reason = NODE_SAML_REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? 'invalid_response';
  throw new UpstreamError(reason, `SAML response: ${message}`);
}

/** A refused Status: the second-level code says whether the person or the IdP is the cause. */
export function checkStatus(response: Element) {
  const status = child(response, NS.protocol, 'Status');
  const code = status && child(status, NS.protocol, 'StatusCode');
  const value = code && attr(code, 'Value');
  if (value === SUCCESS) return;
  const nested = code && child(code, NS.protocol, 'StatusCode');
  const detail = [value, nested && attr(nested, 'Value'), text(status && child(status, NS.protocol, 'StatusMessage'))].filter(Boolean).join(' / ');
  const denied = DENIED.has((nested && attr(nested, 'Value'))?.split(':').pop() ?? '');
  throw new UpstreamError(denied ? 'access_denied' : 'upstream_error', `IdP status: ${detail || 'missing'}`);
}

