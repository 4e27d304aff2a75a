// Small parsers the command definitions share: repeatable options and `name=value` pairs.
import { ValidationError } from '../errors.ts';
import type { Terminal } from './terminal.ts';

/** A repeatable option's values, in the order given. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A value typed on the command line: JSON when it parses (numbers, true, lists), text otherwise. */
export function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** `a.b=value` pairs into a nested patch (values as parseValue reads them); `flag` names the option in errors. */
export function parseSettings(pairs: string[], flag = '--set'): Record<string, unknown> {
  const patch: Record<string, any> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1) throw new ValidationError(`${flag} ${pair}: expected name=value`);
    const path = pair.slice(0, at).split('.');
    let node = patch;
    for (const part of path.slice(0, -1)) node = node[part] ??= {};
    node[path.at(-1)!] = parseValue(pair.slice(at + 1));
  }
  return patch;
}

/** A file an option names, read where the operator runs the command; a missing one is bad input. */
export async function readOptionFile(terminal: Terminal, option: string, file: string): Promise<string> {
  try {
    return await terminal.readFile(file);
  } catch (error) {
    throw new ValidationError(`${option} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A JSON file an option names. */
export async function readOptionJson(terminal: Terminal, option: string, file: string): Promise<unknown> {
  const text = await readOptionFile(terminal, option, file);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`${option} ${file}: not JSON (${(error as Error).message})`);
  }
}

/** An id the command line names, checked before any store sees it: a malformed one is bad input, not a database error. */
export function requireId(what: string, value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) throw new ValidationError(`${what} "${value}": expected an id such as 3f2b…-… (a UUID)`);
  return value;
}

export type ScopeSpec = { type: 'tenant' } | { type: 'location' | 'institution'; key: string } | { type: 'application'; clientId: string };

/** `--scope tenant|location:KEY|institution:KEY|application:CLIENT_ID` (the scope part of --role) into a scope input; `allowed` bounds the types. */
export function parseScope(spec: string | undefined, allowed: readonly ScopeSpec['type'][] = ['tenant', 'location', 'institution', 'application']): ScopeSpec {
  if (!spec || spec === 'tenant') return { type: 'tenant' };
  const colon = spec.indexOf(':');
  const [type, key] = [spec.slice(0, colon), spec.slice(colon + 1)];
  if (colon < 1 || !key || !allowed.includes(type as ScopeSpec['type']) || type === 'tenant') {
    throw new ValidationError(`--scope ${spec}: expected ${allowed.map((t) => (t === 'tenant' ? 'tenant' : `${t}:${t === 'application' ? 'CLIENT_ID' : 'KEY'}`)).join(', ')}`);
  }
  return type === 'application' ? { type, clientId: key } : { type: type as 'location' | 'institution', key };
}

/** A whole number option, refused when it is not one (commander passes the text). */
export const wholeNumber = (flag: string) => (text: string): number => {
  if (!/^\d+$/.test(text)) throw new ValidationError(`${flag} ${text}: expected a whole number`);
  return Number(text);
};
