import { createLogger } from '../logger.ts';
import { createOutbox } from './outbox.ts';
import type { OutgoingMessage } from './outgoing-message.ts';

const message = (tenant: string, text: string): OutgoingMessage => ({ channel: 'email', to: 'ann@example.org', subject: 'Code', text, tenant });

describe('development outbox', () => {
  it('logs each message, text included, at warn level', async () => {
    const lines: string[] = [];
    await createOutbox(createLogger('warn', (l) => lines.push(l))).send(message('a', 'code 123456'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'warn', channel: 'email', to: 'ann@example.org', text: 'code 123456', tenant: 'a' });
  });

  it('keeps messages and lists them per tenant, oldest first', async () => {
    const outbox = createOutbox(createLogger('silent'));
    await outbox.send(message('a', 'one'));
    await outbox.send(message('b', 'two'));
    await outbox.send(message('a', 'three'));
    expect(outbox.list('a').map((m) => m.text)).toEqual(['one', 'three']);
    expect(outbox.list('b').map((m) => m.text)).toEqual(['two']);
    expect(outbox.list().map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(outbox.list('c')).toEqual([]);
    expect(outbox.list('a')[0].at).toBeInstanceOf(Date);
  });

  it('keeps only the last `keep` messages', async () => {
    const outbox = createOutbox(createLogger('silent'), 2);
    for (const text of ['1', '2', '3']) await outbox.send(message('a', text));
    expect(outbox.list().map((m) => m.text)).toEqual(['2', '3']);
  });

  it('hands out copies, so a caller cannot change what was kept', async () => {
    const outbox = createOutbox(createLogger('silent'));
    await outbox.send(message('a', 'original'));
    outbox.list()[0].text = 'changed';
    expect(outbox.list()[0].text).toBe('original');
  });
});
