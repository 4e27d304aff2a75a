// One connection to a directory source, over TLS always: ldaps://, or ldap:// upgraded with
// StartTLS before anything is sent. Certificates are verified against the source's CA (or the
// system's), with the host name checked; there is no setting that turns this off. The servers are
// tried in order; the first that answers and accepts the service account is used.
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { Client, InvalidCredentialsError, type Entry, type SearchOptions } from 'ldapts';
import { DirectoryError } from './directory-error.ts';
import type { SourceSettings } from './source-settings.ts';

export interface LdapConnection {
  /** The server this connection reached (a watermark belongs to one server). */
  readonly url: string;
  /** Every entry under `base` matching `filter`, a page at a time (RFC 2696 paged results). */
  pages(base: string, filter: string, attributes: string[], options?: { binary?: string[] }): AsyncGenerator<Entry[]>;
  /** At most `limit` entries; more is an error the caller decides on. */
  search(base: string, filter: string, attributes: string[], options?: { scope?: SearchOptions['scope']; limit?: number; binary?: string[] }): Promise<Entry[]>;
  close(): Promise<void>;
}

export type Credentials = { dn: string; password: string };

function tlsOptions(url: URL, settings: Pick<SourceSettings, 'caCertificates'>): ConnectionOptions {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    ...(settings.caCertificates ? { ca: settings.caCertificates } : {}),
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    // StartTLS upgrades an existing socket: without the host, Node would check the name "localhost".
    host,
    ...(isIP(host) ? {} : { servername: host }),
  };
}

/** Why a connection attempt failed, in words an admin can act on. */
function describe(error: unknown): { reason: DirectoryError['reason']; detail: string } {
  const e = error as NodeJS.ErrnoException & { code?: string | number };
  const message = String(e?.message ?? error);
  if (error instanceof InvalidCredentialsError) return { reason: 'bind_failed', detail: 'the directory refused the service account (invalid credentials)' };
  if (/timeout|timed out/i.test(message) || e?.code === 'ETIMEDOUT') return { reason: 'timeout', detail: message };
  if (/certificate|self[- ]signed|SSL|TLS|CERT_|ERR_TLS/i.test(`${message} ${e?.code ?? ''}`)) return { reason: 'tls_failed', detail: `TLS: ${message}` };
  return { reason: 'unreachable', detail: message };
}

interface Opened {
  client: Client;
  /** Rejects when the TLS connection closes: ldapts misses a close after StartTLS and would wait out the time-out. */
  closed: Promise<never>;
}

async function open(url: string, settings: Pick<SourceSettings, 'caCertificates' | 'timeoutSeconds' | 'connectTimeoutSeconds'>): Promise<Opened> {
  const parsed = new URL(url);
  const options = tlsOptions(parsed, settings);
  const startTls = parsed.protocol === 'ldap:';
  let onClose!: (error: Error) => void;
  const closed = new Promise<never>((_, reject) => (onClose = reject));
  closed.catch(() => {});
  let secure: TLSSocket | undefined;
  const createSecureConnection = ((...args: Parameters<typeof tlsConnect>) => {
    const socket = (secure = tlsConnect(...args));
    socket.once('close', () => onClose(new Error('the directory closed the connection')));
    return socket;
  }) as typeof tlsConnect;
  // ldapts opens TLS at once whenever tlsOptions are given: for ldap:// they go to startTLS only.
  const client = new Client({
    url, timeout: settings.timeoutSeconds * 1000, connectTimeout: settings.connectTimeoutSeconds * 1000, strictDN: false, createSecureConnection,
    ...(startTls ? {} : { tlsOptions: options }),
  });
  if (!startTls) return { client, closed }; // ldaps: ldapts's connect time-out covers the handshake
  // ldapts times the TCP connect and each LDAP message, not the handshake after StartTLS: a server
  // that accepts StartTLS and then goes quiet would hold the connection (and failover) for ever.
  let timer: NodeJS.Timeout | undefined;
  const handshake = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      secure?.destroy();
      reject(new Error(`timed out: no TLS handshake within ${settings.connectTimeoutSeconds} s`));
    }, settings.connectTimeoutSeconds * 1000);
  });
  handshake.catch(() => {});
  try {
    await Promise.race([client.startTLS(options), handshake]);
  } catch (error) {
    void client.unbind().catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { client, closed };
}

/**
 * Connects to the first server that answers and binds as `credentials`. Fails with the last
 * server's reason when none does; wrong credentials stop at once (another server would say the same).
 */
export async function connect(settings: SourceSettings, credentials: Credentials, urls: readonly string[] = settings.urls): Promise<LdapConnection> {
  const failures: string[] = [];
  let last: ReturnType<typeof describe> = { reason: 'unreachable', detail: 'no server given' };
  for (const url of urls) {
    let opened: Opened | undefined;
    try {
      opened = await open(url, settings);
      await opened.client.bind(credentials.dn, credentials.password);
      return wrap(opened, url, settings.pageSize);
    } catch (error) {
      await opened?.client.unbind().catch(() => {});
      last = describe(error);
      failures.push(`${url}: ${last.detail}`);
      if (last.reason === 'bind_failed') break;
    }
  }
  throw new DirectoryError(last.reason, failures.join('; '));
}

/** Whether `dn` accepts `password`, on a connection of its own (the caller never reuses it). */
export async function verifyBind(settings: SourceSettings, url: string, dn: string, password: string): Promise<boolean> {
  // An empty password is an "unauthenticated bind" (RFC 4513 5.1.2) that many servers accept.
  if (!password) return false;
  let client: Client | undefined;
  try {
    client = (await open(url, settings)).client;
    await client.bind(dn, password);
    return true;
  } catch (error) {
    if (error instanceof InvalidCredentialsError) return false;
    const { reason, detail } = describe(error);
    throw new DirectoryError(reason, detail);
  } finally {
    await client?.unbind().catch(() => {});
  }
}

function wrap({ client, closed }: Opened, url: string, pageSize: number): LdapConnection {
  const fail = (error: unknown): never => {
    if (error instanceof DirectoryError) throw error;
    const { reason, detail } = describe(error);
    throw new DirectoryError(reason === 'bind_failed' || reason === 'unreachable' ? 'search_failed' : reason, `${url}: ${detail}`);
  };
  return {
    url,
    async *pages(base, filter, attributes, options = {}) {
      try {
        const pages = client.searchPaginated(base, { scope: 'sub', filter, attributes, paged: { pageSize }, explicitBufferAttributes: options.binary });
        for (;;) {
          const page = await Promise.race([pages.next(), closed]);
          if (page.done) return;
          yield page.value.searchEntries;
        }
      } catch (error) {
        fail(error);
      }
    },
    async search(base, filter, attributes, options = {}) {
      try {
        const search = client.search(base, { scope: options.scope ?? 'sub', filter, attributes, sizeLimit: options.limit ?? 0, explicitBufferAttributes: options.binary });
        return (await Promise.race([search, closed])).searchEntries;
      } catch (error) {
        return fail(error);
      }
    },
    async close() {
      await client.unbind().catch(() => {});
    },
  };
}
