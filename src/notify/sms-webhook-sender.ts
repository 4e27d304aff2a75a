// SMS through the organisation's own gateway: a JSON POST of {to, text, tenant} to a webhook,
// signed with HMAC-SHA256 so the gateway can tell Caregate's requests from anyone else's.
import { createHmac } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { DeliveryError } from './delivery-error.ts';
import type { Sender } from './outgoing-message.ts';

export const SIGNATURE_HEADER = 'X-Caregate-Signature';

/** "sha256=<hex>" over the exact body bytes, as the gateway should recompute it. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function createSmsWebhookSender({ url, secret, timeoutMs = 10_000 }: { url: string; secret?: string; timeoutMs?: number }): Sender {
  const target = URL.canParse(url) ? new URL(url) : undefined;
  if (target?.protocol !== 'https:' && target?.protocol !== 'http:') throw new ConfigError('SMS webhook URL must be an http(s) URL');
  // Errors name the origin only: the path or query may carry the gateway's token.
  const where = target.origin;

  return {
    async send(message) {
      if (message.channel !== 'sms') throw new DeliveryError(`the SMS webhook sender cannot send ${message.channel} messages`);
      const body = JSON.stringify({ to: message.to, text: message.text, tenant: message.tenant });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (secret) headers[SIGNATURE_HEADER] = signWebhookBody(secret, body);

      const signal = AbortSignal.timeout(timeoutMs);
      try {
        // No redirects: a signed message goes to the configured gateway or nowhere.
        const response = await fetch(target, { method: 'POST', headers, body, signal, redirect: 'error' });
        await response.body?.cancel();
        if (!response.ok) throw new DeliveryError(`SMS webhook ${where} answered HTTP ${response.status}`);
      } catch (error) {
        if (error instanceof DeliveryError) throw error;
        if (signal.aborted) throw new DeliveryError(`SMS webhook ${where} did not answer within ${timeoutMs} ms`);
        throw new DeliveryError(`SMS webhook ${where} could not be reached: ${describe(error)}`);
      }
    },
  };
}

/**
 * fetch reports "fetch failed" and keeps the useful reason (ECONNREFUSED…) in `cause`. Read by
 * shape, not instanceof: fetch's errors may come from another realm (Jest's VM modules).
 */
function describe(error: unknown): string {
  const messageOf = (e: unknown) => (typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : undefined);
  const cause = typeof error === 'object' && error !== null && 'cause' in error ? error.cause : undefined;
  return messageOf(cause) || messageOf(error) || String(error);
}
