// An application's back-channel logout endpoint (OIDC Back-Channel Logout 1.0) for tests: keeps
// every logout token Caregate posts to it, and can wait for them to arrive.
import { createServer } from 'node:http';
import { freePort } from './caregate.ts';

export interface BackchannelReceiver {
  url: string;
  tokens: string[];
  /** Waits up to 5 s until `count` tokens have arrived; returns them. */
  waitFor(count: number): Promise<string[]>;
  close(): void;
}

export async function startBackchannelReceiver(): Promise<BackchannelReceiver> {
  const port = await freePort();
  const tokens: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c)).on('end', () => {
      tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      res.writeHead(200).end();
    });
  }).listen(port, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}/backchannel`,
    tokens,
    async waitFor(count) {
      for (let i = 0; i < 50 && tokens.length < count; i++) await new Promise((r) => setTimeout(r, 100));
      return tokens;
    },
    close: () => server.close(),
  };
}
