// Why a directory operation failed or a sync stopped: `reason` is stable (audit, CLI exit, API),
// the message says what to do about it.
import { CaregateError } from '../errors.ts';

export type DirectoryReason =
  | 'unreachable'     // no server answered
  | 'timeout'         // a server answered too slowly
  | 'tls_failed'      // the certificate was not trusted or did not name the host
  | 'bind_failed'     // the service account was refused
  | 'search_failed'   // a search failed part-way (the directory went away, a limit was hit)
  | 'empty'           // a full search found no users: treated as a fault, never as "everyone left"
  | 'threshold'       // the run would disable more users than the source allows
  | 'busy'            // another run of this source holds the lock
  | 'source_disabled';

const STATUS: Record<DirectoryReason, number> = {
  unreachable: 502, timeout: 504, tls_failed: 502, bind_failed: 502, search_failed: 502,
  empty: 409, threshold: 409, busy: 409, source_disabled: 409,
};

export class DirectoryError extends CaregateError {
  override readonly code = 'directory_error';
  override readonly expose = true;
  override readonly status: number;
  readonly reason: DirectoryReason;

  constructor(reason: DirectoryReason, message: string, details?: Record<string, unknown>) {
    super(message.slice(0, 2000), details);
    this.reason = reason;
    this.status = STATUS[reason];
  }
}
