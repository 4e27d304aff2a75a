// A real SMTP server (smtp-server) on a free local port that records what it receives, including
// the credentials a client logged in with.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Received {
  from: string;
  to: string[];
  /** The message as it came over the wire. */
  data: string;
  /** The message as its reader sees it: header lines unfolded, a quoted-printable body decoded. */
  text: string;
  user?: string;
  pass?: string;
}

export interface SmtpTestServer {
  received: Received[];
  port: number;
  close(): Promise<void>;
}

export async function startSmtpServer(options: SMTPServerOptions): Promise<SmtpTestServer> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    logger: false,
    ...options,
    onAuth(auth, session, callback) {
      session.user = `${auth.username}\n${auth.password}`;
      callback(null, { user: session.user });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const [user, pass] = typeof session.user === 'string' ? session.user.split('\n') : [];
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
          text: readable(Buffer.concat(chunks).toString('utf8')),
          user,
          pass,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return { received, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function readable(raw: string): string {
  const split = /\r?\n\r?\n/.exec(raw);
  if (!split) return raw;
  const head = raw.slice(0, split.index).replace(/\r?\n(?=[ \t])/g, '');
  let body = raw.slice(split.index + split[0].length);
  if (/^content-transfer-encoding:\s*quoted-printable/im.test(head)) {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    body = Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return `${head}\n\n${body}`;
}

/**
 * The first message to `address` whose text (as sent, or as read) matches `pattern`, once it has arrived (mail is sent
 * after the request that caused it answered). Gives up after ~30 s naming what did arrive.
 */
export async function waitForMail(server: SmtpTestServer, address: string, pattern: RegExp): Promise<Received> {
  for (let i = 0; i < 600; i++) {
    const found = server.received.find((m) => m.to.includes(address) && (pattern.test(m.data) || pattern.test(m.text)));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no mail to ${address} matching ${pattern}; received: ${JSON.stringify(server.received.map((m) => ({ to: m.to, head: m.data.slice(0, 300) })))}`);
}
