import type { OutgoingMessage, Sender } from './outgoing-message.ts';
import { createRouter } from './router.ts';

const recorder = () => {
  const sent: OutgoingMessage[] = [];
  return { sent, send: async (m: OutgoingMessage) => void sent.push(m) } satisfies Sender & { sent: OutgoingMessage[] };
};
const msg = (channel: 'email' | 'sms'): OutgoingMessage => ({ channel, to: 'x', subject: 's', text: 't', tenant: 'a' });

describe('notification router', () => {
  it('sends each message through the sender of its channel', async () => {
    const [email, sms, fallback] = [recorder(), recorder(), recorder()];
    const router = createRouter({ email, sms, fallback });
    await router.send(msg('email'));
    await router.send(msg('sms'));
    expect(email.sent.map((m) => m.channel)).toEqual(['email']);
    expect(sms.sent.map((m) => m.channel)).toEqual(['sms']);
    expect(fallback.sent).toEqual([]);
  });

  it('falls back for a channel without a sender', async () => {
    const [email, fallback] = [recorder(), recorder()];
    await createRouter({ email, fallback }).send(msg('sms'));
    expect(fallback.sent.map((m) => m.channel)).toEqual(['sms']);
    expect(email.sent).toEqual([]);
  });

  it('passes a delivery failure on to the caller', async () => {
    const failing: Sender = { send: async () => Promise.reject(new Error('down')) };
    await expect(createRouter({ sms: failing, fallback: recorder() }).send(msg('sms'))).rejects.toThrow('down');
  });
});
