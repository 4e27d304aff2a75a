// Message delivery for 2FA codes, password-reset links and invitations: SMTP for email, a signed
// webhook for SMS, and a development outbox for any channel left unconfigured.
export type { OutgoingMessage, Sender } from './outgoing-message.ts';
export { DeliveryError } from './delivery-error.ts';
export { createSmtpSender, parseSmtpUrl } from './smtp-sender.ts';
export { createSmsWebhookSender, signWebhookBody, SIGNATURE_HEADER } from './sms-webhook-sender.ts';
export { createOutbox, type Outbox, type KeptMessage } from './outbox.ts';
export { createRouter } from './router.ts';
