// A TCP proxy that a test can cut, stall and restore, to play a store going away and coming back
// without touching the store itself (which other suites may share).
import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number;
  /** Drops every open connection and refuses new ones, as a stopped server would. */
  cut(): Promise<void>;
  /**
   * Keeps connections open but carries nothing either way, and accepts new ones without answering,
   * as a network partition or a hung server would.
   */
  stall(): Promise<void>;
  /** Carries traffic again: accepts on the same port, and stalled connections resume. */
  restore(): Promise<void>;
  /** Stops the proxy for good (idempotent). */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let stalled = false;

  /** Connects the pair (upstream on first use) and lets bytes flow both ways. */
  const link = (pair: Pair) => {
    if (!pair.upstream) {
      const upstream = connect(target.port, target.host);
      pair.upstream = upstream;
      // Either side failing or closing ends the other, so the client sees what a dead server does.
      upstream.on('error', () => pair.client.destroy());
      upstream.on('close', () => pair.client.destroy());
    }
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
  };
  const unlink = (pair: Pair) => {
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  };

  const server = createServer((client) => {
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('error', () => pair.upstream?.destroy());
    client.on('close', () => {
      pair.upstream?.destroy();
      pairs.delete(pair);
    });
    if (stalled) client.pause();
    else link(pair);
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const stop = async () => {
    stalled = false;
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream?.destroy();
    }
    await closed;
  };

  const port = await listen(0);
  return {
    port,
    cut: stop,
    async stall() {
      stalled = true;
      for (const pair of pairs) unlink(pair);
    },
    async restore() {
      if (stalled) {
        stalled = false;
        for (const pair of pairs) link(pair);
      }
      if (!server.listening) await listen(port);
    },
    close: stop,
  };
}
