// Picks the sender for a message's channel; a channel without one goes to the fallback (the
// development outbox), so a missing SMS gateway shows up in the log rather than as an error.
import type { Sender } from './outgoing-message.ts';

export function createRouter({ email, sms, fallback }: { email?: Sender; sms?: Sender; fallback: Sender }): Sender {
  const byChannel = { email, sms };
  return {
    send: (message) => (byChannel[message.channel] ?? fallback).send(message),
  };
}
