// The list's page cursor: opaque to callers, the seq of the last event a page showed. Pages go
// newest first and the next one starts below that seq, so events appended meanwhile (always a
// higher seq) neither shift nor repeat what follows.
const PREFIX = 'seq:';

export function encodeAuditCursor(seq: string): string {
  return Buffer.from(`${PREFIX}${seq}`).toString('base64url');
}

/** The seq the cursor names, or undefined when it is not one this API issued. */
export function decodeAuditCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString();
  return /^seq:[1-9][0-9]{0,18}$/.test(text) ? text.slice(PREFIX.length) : undefined;
}
