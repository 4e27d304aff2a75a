// JSON-lines logger on stderr (stdout stays free for CLI output). Errors are flattened so their
// message and stack survive serialisation.
export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const flatten = (v: unknown) => (v instanceof Error ? { message: v.message, name: v.name, stack: v.stack } : v);

export function createLogger(level: Level = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const at = (lvl: Exclude<Level, 'silent'>) => (msg: string, fields: Record<string, unknown> = {}) => {
    if (RANK[lvl] < RANK[level]) return;
    const entries = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, flatten(v)]));
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...entries }));
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
