export { createAuditWriter, type AuditWriter, type AuditInput, type AuditActor } from './audit-writer.ts';
export { canonicalJson } from './canonical-json.ts';
