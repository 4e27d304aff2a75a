// Turns a failure to open PostgreSQL (pg's socket and server errors) into one of ours that names
// DATABASE_URL and what to check. The URL is shown as host, port, database and user only: never
// its password.
import { ConfigError, StoreUnavailableError, type CaregateError } from '../errors.ts';
import { networkFailure } from '../network-failure.ts';

const SETTING = 'DATABASE_URL';

/** Where DATABASE_URL points, without credentials. */
function target(databaseUrl: string) {
  const url = new URL(databaseUrl);
  const host = decodeURIComponent(url.hostname) || url.searchParams.get('host') || 'localhost';
  const user = decodeURIComponent(url.username) || process.env.PGUSER || 'the current user';
  return { where: `${host}:${url.port || 5432}`, host, user, database: decodeURIComponent(url.pathname.slice(1)) || user };
}

export function explainConnectError(error: unknown, databaseUrl: string): CaregateError | undefined {
  const e = error as NodeJS.ErrnoException;
  const { where, host, user, database } = target(databaseUrl);
  const unreachable = (reason: string, hint: string) =>
    new StoreUnavailableError(`Cannot reach PostgreSQL at ${where} (${SETTING}): ${reason} — ${hint}`, { setting: SETTING, reason: e.code ?? reason });
  const refused = (reason: string, hint: string) =>
    new ConfigError(`PostgreSQL at ${where} refused the connection (${SETTING}): ${reason} — ${hint}`, { setting: SETTING, reason: e.code });
  const network = networkFailure(e.code, host, 'add ?sslmode=require to the URL');
  if (network) return unreachable(network.reason, network.hint);
  switch (e.code) {
    case '28P01':
      return refused(`password authentication failed for user "${user}"`, 'check the user name and password in the URL');
    case '28000':
      return refused(`user "${user}" may not connect to database "${database}" from here`, 'check the user in the URL and the server\'s pg_hba.conf');
    case '3D000':
      return refused(`database "${database}" does not exist`, `create it (createdb ${database}) or fix the database name in the URL`);
    case '53300':
      return refused('too many connections', 'raise max_connections or lower the number of Caregate nodes (each opens up to 10)');
    case '57P03':
      return unreachable('the server is starting up or shutting down', 'start Caregate again once PostgreSQL is up');
  }
  // pg's own connect timeout and a TLS mismatch carry no code, only a message.
  if (/timeout/i.test(e.message ?? '')) return unreachable('no answer within the connect timeout', 'is the host right, and does a firewall let this machine reach that port?');
  if (/does not support SSL/i.test(e.message ?? '')) return refused('the server does not support TLS', 'remove sslmode (or ssl=true) from the URL, or enable TLS on the server');
  return undefined;
}
