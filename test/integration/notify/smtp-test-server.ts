// A real SMTP server (smtp-server) on a free local port that records what it receives, including
// the credentials a client logged in with.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Received {
  from: string;
  to: string[];
  data: string;
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
