// The refusals of the decision endpoint (AuthZEN Authorization API 1.0, Error Responses): 401 when
// the application did not authenticate, 403 when it asks what it may not ask. A refusal is not a
// decision: "no" is a 200 answer with `"decision": false`.
import { CaregateError } from '../errors.ts';

/** No, malformed, unknown or wrong client credentials; answered with a WWW-Authenticate challenge. */
export class ClientAuthenticationError extends CaregateError {
  override readonly status = 401;
  override readonly code = 'invalid_client';
  override readonly expose = true;
}

/** A question about a permission outside the asking application's catalogue. */
export class OutsideCatalogueError extends CaregateError {
  override readonly status = 403;
  override readonly code = 'outside_catalogue';
  override readonly expose = true;
}
