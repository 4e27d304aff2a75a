// Development stand-in for a channel with no sender configured: the message, text and codes
// included, goes to the log at warn level and the last few stay in memory for the admin UI and
// tests. Never a delivery path for production, where it would put codes and links in the logs.
import type { Logger } from '../logger.ts';
import type { OutgoingMessage, Sender } from './outgoing-message.ts';

export type KeptMessage = OutgoingMessage & { at: Date };

export interface Outbox extends Sender {
  /** Kept messages, oldest first; only `tenant`'s when given. */
  list(tenant?: string): KeptMessage[];
}

export function createOutbox(log: Logger, keep = 50): Outbox {
  const kept: KeptMessage[] = [];
  return {
    async send(message) {
      const { channel, to, subject, text, tenant } = message;
      log.warn('message not delivered: no sender configured for this channel, kept in the development outbox', { channel, to, subject, text, tenant });
      kept.push({ ...message, at: new Date() });
      if (kept.length > keep) kept.splice(0, kept.length - keep);
    },
    list: (tenant) => kept.filter((m) => tenant === undefined || m.tenant === tenant).map((m) => ({ ...m })),
  };
}
