// Reads an audit export back, JSON Lines or CSV (told apart by the first character), one event at a
// time from a stream of text, so a file of any size is checked in constant memory.
import { ValidationError } from '../errors.ts';
import { AUDIT_EXPORT_FIELDS, AUDIT_JSON_FIELDS, type ExportedAuditEvent } from './audit-export-format.ts';

type Cell = string | null;

/** An export's text or bytes, in chunks cut anywhere: a file stream, a response body, an array. */
export type AuditExportSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

async function* decode(source: AuditExportSource): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of source) yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** RFC 4180 records; an unquoted empty cell is null, a quoted one "". Blank lines are skipped. */
async function* csvRecords(chunks: AsyncIterable<string>): AsyncGenerator<Cell[]> {
  let record: Cell[] = [];
  let field = '';
  let quoted = false; // the cell opened with a quote
  let inQuotes = false;
  let closed = false; // a quote just closed the cell, unless another follows ("" is a quote)
  let records = 1;
  const endField = () => {
    record.push(quoted ? field : field || null);
    [field, quoted, closed] = ['', false, false];
  };
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i++) {
      if (inQuotes) {
        const close = chunk.indexOf('"', i);
        field += chunk.slice(i, close < 0 ? undefined : close);
        if (close < 0) break;
        [inQuotes, closed, i] = [false, true, close];
        continue;
      }
      const c = chunk[i]!;
      if (c === ',') endField();
      else if (c === '\n') {
        endField();
        records += 1;
        if (record.length > 1 || record[0] !== null) yield record;
        record = [];
      } else if (c === '\r') continue;
      else if (c === '"' && closed) [field, inQuotes, closed] = [`${field}"`, true, false];
      else if (c === '"' && !quoted && field === '') quoted = inQuotes = true;
      else if (closed || c === '"') throw new ValidationError(`CSV record ${records}: a quote inside a cell that is not quoted whole`);
      else field += c;
    }
  }
  if (inQuotes) throw new ValidationError('CSV: the file ends inside a quoted cell');
  endField();
  if (record.length > 1 || record[0] !== null) yield record;
}

async function* csvEvents(chunks: AsyncIterable<string>): AsyncGenerator<ExportedAuditEvent> {
  let columns: Map<string, number> | undefined;
  let n = 0;
  for await (const record of csvRecords(chunks)) {
    if (!columns) {
      columns = new Map(record.map((name, i) => [name ?? '', i]));
      const missing = AUDIT_EXPORT_FIELDS.filter((f) => !columns!.has(f));
      if (missing.length) throw new ValidationError(`CSV header lacks ${missing.join(', ')}`);
      continue;
    }
    n += 1;
    const event: Record<string, unknown> = {};
    for (const f of AUDIT_EXPORT_FIELDS) {
      // Undo the formula guard: a text cell starting with ' had one added.
      const raw = record[columns.get(f)!] ?? null;
      const cell = raw?.startsWith("'") ? raw.slice(1) : raw;
      event[f] = cell !== null && AUDIT_JSON_FIELDS.has(f) ? parseJson(cell, `CSV record ${n}, ${f}`) : cell;
    }
    yield wellFormed(event, `CSV record ${n}`);
  }
}

async function* jsonlEvents(chunks: AsyncIterable<string>): AsyncGenerator<ExportedAuditEvent> {
  let pending = '';
  let line = 0;
  const parse = (entry: string) => {
    line += 1;
    const value = parseJson(entry, `line ${line}`);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ValidationError(`line ${line}: not an event object`);
    const missing = AUDIT_EXPORT_FIELDS.filter((f) => !(f in value));
    if (missing.length) throw new ValidationError(`line ${line}: lacks ${missing.join(', ')}`);
    return wellFormed(Object.fromEntries(AUDIT_EXPORT_FIELDS.map((f) => [f, (value as Record<string, unknown>)[f]])), `line ${line}`);
  };
  for await (const chunk of chunks) {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop()!;
    for (const entry of lines) {
      if (entry.trim()) yield parse(entry);
      else line += 1;
    }
  }
  if (pending.trim()) yield parse(pending);
}

/** The fields the chain check relies on have the shape the writer gave them. */
function wellFormed(event: Record<string, unknown>, where: string): ExportedAuditEvent {
  const bad = [
    !/^[0-9]{1,19}$/.test(String(event.seq)) && 'seq',
    (typeof event.at !== 'string' || Number.isNaN(Date.parse(event.at))) && 'at',
    !/^[0-9a-f]{64}$/.test(String(event.prevHash)) && 'prevHash',
    !/^[0-9a-f]{64}$/.test(String(event.hash)) && 'hash',
  ].filter(Boolean);
  if (bad.length) throw new ValidationError(`${where}: malformed ${bad.join(', ')}`);
  return event as ExportedAuditEvent;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(`${where}: not JSON`);
  }
}

/** The events of an export, in file order; a malformed file is a ValidationError naming where. */
export async function* readAuditExport(source: AuditExportSource): AsyncGenerator<ExportedAuditEvent> {
  const chunks = decode(source);
  // Peek at the first characters to tell JSON Lines ({) from CSV (the header), then replay them.
  let head = '';
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
    head += next.value;
    if (head.trimStart()) break;
  }
  async function* replay() {
    yield head;
    yield* chunks;
  }
  yield* head.trimStart().startsWith('{') ? jsonlEvents(replay()) : csvEvents(replay());
}
