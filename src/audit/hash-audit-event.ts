// The hash that links an audit event into its tenant's chain. The writer, `verify` and the offline
// check of an export all compute it here, so an export verifies exactly as the live log does.
import { createHash } from 'node:crypto';
import type { AuditEvent } from '../storage/index.ts';
import { canonicalJson } from './canonical-json.ts';

/** The `prevHash` of a chain's first event. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** What an event's hash covers: every field but its position (seq) and the hashes themselves. */
export type HashedAuditFields = Omit<AuditEvent, 'seq' | 'hash' | 'prevHash'>;

/** sha256(prevHash ‖ canonical JSON of the event), hex; `at` may be a Date or its ISO string. */
export function hashAuditEvent(prevHash: string, event: Omit<HashedAuditFields, 'at'> & { at: Date | string }): string {
  const body = canonicalJson({ ...event, at: new Date(event.at) });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}
