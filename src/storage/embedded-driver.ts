// PGlite is a single connection. typeorm-pglite hands that one connection to every TypeORM query
// runner at once, so two concurrent transactions would interleave their statements. This driver
// gives each query runner exclusive use of the connection until it is released.
import { PGliteDriver } from 'typeorm-pglite';

class Mutex {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}

type ConnectCallback = (err: unknown, client: unknown, done: (err?: unknown) => void) => void;

export function createEmbeddedDriver(dataDir: string): unknown {
  const Base = (new PGliteDriver({ dataDir }).driver as unknown as { Pool: new () => { connect(cb: ConnectCallback): void } })
    .Pool;
  const mutex = new Mutex();
  class SerializedPool extends Base {
    override connect(callback: ConnectCallback): void {
      mutex.acquire().then((release) => {
        super.connect((err, client, done) =>
          callback(err, client, (doneErr?: unknown) => {
            release();
            done(doneErr);
          }),
        );
      });
    }
  }
  return { Pool: SerializedPool };
}
