// The real senders against real peers on free local ports: an SMTP server (smtp-server) for email
// and a node:http server standing in for the organisation's SMS gateway.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSmsWebhookSender, createSmtpSender, DeliveryError, parseSmtpUrl, type OutgoingMessage } from '../../../src/notify/index.ts';
import { startSmtpServer, type SmtpTestServer } from './smtp-test-server.ts';

const email: OutgoingMessage = {
  channel: 'email',
  to: 'ann@example.org',
  subject: 'Your Caregate sign-in code',
  text: 'Your code is 123456. It expires in 10 minutes.',
  html: '<p>Your code is <b>123456</b>.</p>',
  tenant: 'st-mary',
};
const sms: OutgoingMessage = { channel: 'sms', to: '+15550100', subject: '', text: 'Caregate code: 654321', tenant: 'st-mary' };

describe('SMTP sender', () => {
  // The test server offers no STARTTLS, so smtp:// delivers in clear: the documented behaviour for a
  // server that does not offer it. Insecure AUTH is allowed only so the credentials can be checked.
  let plain: SmtpTestServer;
  // This one offers STARTTLS with smtp-server's built-in certificate, which no trusted CA signed.
  let selfSigned: SmtpTestServer;

  beforeAll(async () => {
    plain = await startSmtpServer({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true });
    selfSigned = await startSmtpServer({});
  });
  afterAll(async () => {
    await plain?.close();
    await selfSigned?.close();
  });

  it('delivers recipient, subject and body to a real SMTP server', async () => {
    const sender = createSmtpSender({ url: `smtp://127.0.0.1:${plain.port}`, from: 'Caregate <no-reply@caregate.test>' });
    try {
      await sender.send(email);
    } finally {
      sender.close();
    }
    const message = plain.received.at(-1)!;
    expect(message.from).toBe('no-reply@caregate.test');
    expect(message.to).toEqual(['ann@example.org']);
    expect(message.data).toMatch(/^Subject: Your Caregate sign-in code\r$/m);
    expect(message.data).toContain('Your code is 123456. It expires in 10 minutes.');
    expect(message.data).toContain('<b>123456</b>');
  });

  it('logs in with the user name and password of the URL, percent-decoded', async () => {
    const sender = createSmtpSender({ url: `smtp://mailer%40clinic:p%40ss%3Aword@127.0.0.1:${plain.port}`, from: 'no-reply@caregate.test' });
    try {
      await sender.send({ ...email, to: 'bob@example.org' });
    } finally {
      sender.close();
    }
    expect(plain.received.at(-1)).toMatchObject({ to: ['bob@example.org'], user: 'mailer@clinic', pass: 'p@ss:word' });
  });

  it('refuses a STARTTLS certificate it cannot verify instead of falling back to plain text', async () => {
    const sender = createSmtpSender({ url: `smtp://127.0.0.1:${selfSigned.port}`, from: 'no-reply@caregate.test' });
    try {
      await expect(sender.send(email)).rejects.toThrow(/SMTP delivery through 127\.0\.0\.1 failed: .*(certificate|self.signed)/i);
    } finally {
      sender.close();
    }
    expect(selfSigned.received).toHaveLength(0);
  });

  it('with starttls=required, refuses a server that does not offer STARTTLS', async () => {
    const sender = createSmtpSender({ url: `smtp://127.0.0.1:${plain.port}?starttls=required`, from: 'no-reply@caregate.test' });
    const before = plain.received.length;
    try {
      await expect(sender.send(email)).rejects.toBeInstanceOf(DeliveryError);
    } finally {
      sender.close();
    }
    expect(plain.received).toHaveLength(before);
  });

  it('speaks TLS from the first byte on smtps://', async () => {
    const sender = createSmtpSender({ url: `smtps://127.0.0.1:${plain.port}`, from: 'no-reply@caregate.test' });
    try {
      await expect(sender.send(email)).rejects.toThrow(/SMTP delivery through 127\.0\.0\.1 failed/);
    } finally {
      sender.close();
    }
  });

  it('refuses URL options that could weaken TLS, and other schemes', () => {
    expect(() => parseSmtpUrl('smtp://mail.example.org?tls.rejectUnauthorized=false')).toThrow(/unsupported options: tls.rejectUnauthorized/);
    expect(() => parseSmtpUrl('smtp://mail.example.org?starttls=off')).toThrow(/starttls/);
    expect(() => parseSmtpUrl('http://mail.example.org')).toThrow(/smtp:\/\/ or smtps:\/\//);
    expect(parseSmtpUrl('smtps://u:p@mail.example.org')).toEqual({
      host: 'mail.example.org',
      port: undefined,
      secure: true,
      requireTLS: false,
      auth: { user: 'u', pass: 'p' },
    });
  });

  it('sends email only', async () => {
    const sender = createSmtpSender({ url: `smtp://127.0.0.1:${plain.port}`, from: 'no-reply@caregate.test' });
    await expect(sender.send(sms)).rejects.toThrow(/cannot send sms/);
    sender.close();
  });
});

describe('SMS webhook sender', () => {
  type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
  let server: Server;
  let base: string;
  let handle: Handler;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('POSTs {to, text, tenant} as JSON, signed with HMAC-SHA256 of the body', async () => {
    let seen: { method?: string; path?: string; type?: string; signature?: string; body: string } | undefined;
    handle = (req, body, res) => {
      seen = { method: req.method, path: req.url, type: req.headers['content-type'], signature: req.headers['x-caregate-signature'] as string, body };
      res.writeHead(204).end();
    };
    await createSmsWebhookSender({ url: `${base}/sms?token=abc`, secret: 'gateway-secret' }).send(sms);

    expect(seen).toMatchObject({ method: 'POST', path: '/sms?token=abc', type: 'application/json' });
    expect(JSON.parse(seen!.body)).toEqual({ to: '+15550100', text: 'Caregate code: 654321', tenant: 'st-mary' });
    const expected = createHmac('sha256', 'gateway-secret').update(seen!.body).digest('hex');
    expect(seen!.signature).toBe(`sha256=${expected}`);
  });

  it('sends no signature header when no secret is configured', async () => {
    let signature: string | string[] | undefined = 'unset';
    handle = (req, _body, res) => {
      signature = req.headers['x-caregate-signature'];
      res.writeHead(200).end('ok');
    };
    await createSmsWebhookSender({ url: `${base}/sms` }).send(sms);
    expect(signature).toBeUndefined();
  });

  it('rejects with a clear message when the gateway answers 500, naming the origin but not the token', async () => {
    handle = (_req, _body, res) => res.writeHead(500).end('boom');
    const sending = createSmsWebhookSender({ url: `${base}/sms?token=secret-token`, secret: 's' }).send(sms);
    await expect(sending).rejects.toThrow(`SMS webhook ${base} answered HTTP 500`);
    await expect(sending).rejects.toBeInstanceOf(DeliveryError);
  });

  it('rejects with a clear message when the gateway never answers', async () => {
    handle = () => {}; // holds the request open
    const started = Date.now();
    await expect(createSmsWebhookSender({ url: `${base}/sms`, timeoutMs: 300 }).send(sms)).rejects.toThrow(
      `SMS webhook ${base} did not answer within 300 ms`,
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('does not follow redirects with a signed message', async () => {
    handle = (_req, _body, res) => res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' }).end();
    await expect(createSmsWebhookSender({ url: `${base}/sms`, secret: 's' }).send(sms)).rejects.toThrow(/could not be reached/);
  });

  it('rejects with a clear message when nothing listens', async () => {
    // A port that was free a moment ago (fetch refuses well-known ports such as 1 outright).
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', () => resolve()));
    const closed = `http://127.0.0.1:${(spare.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    await expect(createSmsWebhookSender({ url: `${closed}/sms` }).send(sms)).rejects.toThrow(
      new RegExp(`SMS webhook ${closed} could not be reached: .*ECONNREFUSED`),
    );
  });

  it('refuses a URL that is not http(s), and messages for other channels', async () => {
    expect(() => createSmsWebhookSender({ url: 'ftp://gateway' })).toThrow(/http\(s\) URL/);
    expect(() => createSmsWebhookSender({ url: 'not a url' })).toThrow(/http\(s\) URL/);
    await expect(createSmsWebhookSender({ url: `${base}/sms` }).send(email)).rejects.toThrow(/cannot send email/);
  });
});
