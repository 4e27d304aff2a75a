// The shape of every message Caregate sends (2FA codes, password-reset links, invitations) and the
// one capability a delivery channel offers.
export interface OutgoingMessage {
  channel: 'email' | 'sms';
  /** An email address or a phone number, depending on the channel. */
  to: string;
  /** Email subject; SMS senders ignore it. */
  subject: string;
  text: string;
  html?: string;
  /** The tenant the message is sent for (webhook routing, outbox listing). */
  tenant: string;
}

export interface Sender {
  /** Resolves once the message was handed over; rejects with a DeliveryError otherwise. */
  send(message: OutgoingMessage): Promise<void>;
}
