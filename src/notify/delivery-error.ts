// A message could not be handed to its channel (SMTP refused, webhook failed or timed out). The
// message names the server, never the recipient or the content.
import { CaregateError } from '../errors.ts';

export class DeliveryError extends CaregateError {
  override readonly status = 502;
  override readonly code = 'delivery_failed';
}
