// Turns what went wrong while first connecting to Redis (ioredis's socket and reply errors) into one
// of ours that names REDIS_URL and what to check. The URL is shown as host, port and database
// only: never its password.
import { ConfigError, StoreUnavailableError, type CaregateError } from '../errors.ts';
import { networkFailure } from '../network-failure.ts';

const SETTING = 'REDIS_URL';

/** `error`: the last error ioredis reported while connecting, if any (none: it never answered). */
export function explainRedisError(error: (Error & { code?: string }) | undefined, redisUrl: string): CaregateError {
  const url = new URL(redisUrl);
  const where = `${url.hostname}:${url.port || 6379}`;
  const message = error?.message ?? '';
  const unreachable = (reason: string, hint: string) =>
    new StoreUnavailableError(`Cannot reach Redis at ${where} (${SETTING}): ${reason} — ${hint}`, { setting: SETTING, reason: error?.code ?? reason });
  const refused = (reason: string, hint: string) =>
    new ConfigError(`Redis at ${where} refused the connection (${SETTING}): ${reason} — ${hint}`, { setting: SETTING, reason: message.split(' ')[0] });
  if (message.startsWith('NOAUTH')) return refused('it requires a password', 'put it in the URL: redis://:PASSWORD@host:port/db (or redis://USER:PASSWORD@… with ACLs)');
  if (/^WRONGPASS|^ERR invalid password|^ERR AUTH/.test(message)) return refused('the user name or password is wrong', 'check the credentials in the URL');
  if (isRedisSelectError(error)) return refused(`it has no database ${url.pathname.slice(1)}`, 'use a database number the server has (0–15 by default) in the URL path');
  const network = networkFailure(error?.code, url.hostname, 'rediss://');
  if (network) return unreachable(network.reason, network.hint);
  const tls = url.protocol === 'rediss:' ? ' With rediss://, does the server speak TLS on that port?' : '';
  return unreachable(`no answer${message ? ` (${message})` : ''}`, `is the host right, and does a firewall let this machine reach that port?${tls}`);
}

/** True when ioredis connected but could not select the URL's database: it then silently uses database 0. */
export function isRedisSelectError(error: Error | undefined): boolean {
  return /DB index is out of range/.test(error?.message ?? '');
}

/** True for a refusal that retrying will not cure: a missing or wrong password, a missing database. */
export function isRedisRefusal(error: Error): boolean {
  return /^(NOAUTH|WRONGPASS|ERR invalid password|ERR AUTH)/.test(error.message) || isRedisSelectError(error);
}
