// Email over SMTP (nodemailer). The URL alone says how the connection is protected:
//   smtps://user:pass@host[:465]  TLS from the first byte (implicit TLS).
//   smtp://user:pass@host[:587]   STARTTLS whenever the server offers it. A failed upgrade (bad
//                                  certificate) is an error, never a silent fall-back to plain text;
//                                  a server that does not offer STARTTLS gets the message in clear.
//   smtp://…?starttls=required    refuses to send unless the server offers STARTTLS: use it whenever
//                                  the SMTP server is not on a trusted network.
// Certificates are always verified. No URL option turns that off: nodemailer would read query
// options such as `tls.rejectUnauthorized=false` from the URL, so the URL is parsed here instead.
import type { Transporter } from 'nodemailer';
import { ConfigError } from '../errors.ts';
import { DeliveryError } from './delivery-error.ts';
import type { Sender } from './outgoing-message.ts';

const TIMEOUT_MS = 10_000;

interface SmtpEndpoint {
  host: string;
  port?: number;
  secure: boolean;
  requireTLS: boolean;
  auth?: { user: string; pass: string };
}

/** Reads an smtp:// or smtps:// URL; anything else stops start-up with the reason. */
export function parseSmtpUrl(url: string): SmtpEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('SMTP URL is not a valid URL');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') throw new ConfigError('SMTP URL must start with smtp:// or smtps://');
  if (!parsed.hostname) throw new ConfigError('SMTP URL has no host');
  const unknown = [...parsed.searchParams.keys()].filter((key) => key !== 'starttls');
  if (unknown.length) throw new ConfigError(`SMTP URL has unsupported options: ${unknown.join(', ')} (only starttls=required)`);
  const starttls = parsed.searchParams.get('starttls');
  if (starttls !== null && starttls !== 'required') throw new ConfigError('SMTP URL option starttls accepts only "required"');
  if (starttls && parsed.protocol === 'smtps:') throw new ConfigError('starttls=required applies to smtp:// only; smtps:// is TLS throughout');
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : undefined,
    secure: parsed.protocol === 'smtps:',
    requireTLS: starttls === 'required',
    auth: parsed.username ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } : undefined,
  };
}

export function createSmtpSender({ url, from }: { url: string; from: string }): Sender & { close(): void } {
  const endpoint = parseSmtpUrl(url);
  // nodemailer loads with the first message, not with every process that might send one (a CLI command).
  let transport: Promise<Transporter> | undefined;
  const open = () => (transport ??= import('nodemailer').then(({ default: nodemailer }) => nodemailer.createTransport({
    ...endpoint,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    dnsTimeout: TIMEOUT_MS,
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    // Messages are plain strings: nodemailer must never read a file or fetch a URL named in one.
    disableFileAccess: true,
    disableUrlAccess: true,
  })));

  return {
    async send(message) {
      if (message.channel !== 'email') throw new DeliveryError(`the SMTP sender cannot send ${message.channel} messages`);
      try {
        await (await open()).sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html });
      } catch (error) {
        throw new DeliveryError(`SMTP delivery through ${endpoint.host} failed: ${describe(error)}`);
      }
    },
    close: () => void transport?.then((t) => t.close()),
  };
}

/** nodemailer's message, with its error code (ETLS, EAUTH, ECONNECTION…) when it has one. */
function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { message, code } = error as { message?: unknown; code?: unknown };
  const text = String(message ?? error).trim();
  return typeof code === 'string' ? `${text} (${code})` : text;
}
