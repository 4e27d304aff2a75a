// Checks an audit export offline, with nothing but the file: each event's hash is recomputed from
// its own prevHash and fields exactly as the writer computed it, and consecutive events are checked
// for the link between them. A filtered export has gaps (the events filtered out); an unfiltered
// one is a single unbroken stretch of the chain, from the genesis hash when it starts at the first
// event.
import { AUDIT_GENESIS, hashAuditEvent } from './hash-audit-event.ts';
import { readAuditExport, type AuditExportSource } from './read-audit-export.ts';

export interface AuditExportVerification {
  /** Every event's hash recomputes and the events are in chain order. */
  ok: boolean;
  events: number;
  /** Pairs of consecutive events where the second's prevHash is the first's hash. */
  linked: number;
  /** Pairs where it is not: events between them are not in the export. */
  gaps: number;
  /** The first event's prevHash is the genesis hash: the export starts at the chain's beginning. */
  fromGenesis: boolean;
  firstSeq: string | null;
  lastSeq: string | null;
  /** Compare with the live log (or an unfiltered export) to show the stretch ends where it should. */
  lastHash: string | null;
  /** The first events that failed (at most 20), and why. */
  failures: Array<{ seq: string; id: string; reason: 'hash_mismatch' | 'out_of_order' }>;
}

const MAX_FAILURES = 20;

export async function verifyAuditExport(source: AuditExportSource): Promise<AuditExportVerification> {
  const result: AuditExportVerification = { ok: true, events: 0, linked: 0, gaps: 0, fromGenesis: false, firstSeq: null, lastSeq: null, lastHash: null, failures: [] };
  const fail = (seq: string, id: string, reason: AuditExportVerification['failures'][number]['reason']) => {
    result.ok = false;
    if (result.failures.length < MAX_FAILURES) result.failures.push({ seq, id, reason });
  };
  for await (const event of readAuditExport(source)) {
    const { seq, prevHash, hash, ...fields } = event;
    if (result.lastSeq === null) [result.firstSeq, result.fromGenesis] = [seq, prevHash === AUDIT_GENESIS];
    else if (BigInt(seq) <= BigInt(result.lastSeq)) fail(seq, event.id, 'out_of_order');
    else if (prevHash === result.lastHash) result.linked += 1;
    else result.gaps += 1;
    if (hashAuditEvent(prevHash, fields) !== hash) fail(seq, event.id, 'hash_mismatch');
    [result.events, result.lastSeq, result.lastHash] = [result.events + 1, seq, hash];
  }
  return result;
}
