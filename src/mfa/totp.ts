// Authenticator-app codes (RFC 6238: SHA-1, 6 digits, 30 s): enrolment secret, otpauth:// URI and
// QR code, and verification that accepts one step of clock drift and each code only once.
import { generateSecret, generateURI, verify as verifyOtp } from 'otplib';
import type { EphemeralStore } from '../ephemeral/index.ts';

const PERIOD = 30;
const DIGITS = 6;
/** Steps accepted either side of the current one (a phone clock a little off). */
const DRIFT_STEPS = 1;
/** Replay marks outlive every step that can still verify: drift either side plus the current one. */
const REPLAY_TTL_SECONDS = (2 * DRIFT_STEPS + 2) * PERIOD;

export interface Totp {
  /** A new base32 secret of 20 random bytes (160 bits, the size RFC 4226 recommends). */
  generateSecret(): string;
  /** The otpauth:// URI an authenticator app scans. */
  keyUri(secret: string, names: { issuer: string; account: string }): string;
  /** The URI as an inline <svg> (paths only, no script), for the enrolment page. */
  qrSvg(uri: string): Promise<string>;
  /** True once per valid code; `replayKey` names the credential (e.g. tenant and user). */
  verify(secret: string, code: string, replayKey: string): Promise<boolean>;
}

export function createTotp({ ephemeral, now = Date.now }: { ephemeral: EphemeralStore; now?: () => number }): Totp {
  return {
    generateSecret: () => generateSecret({ length: 20 }),

    keyUri(secret, { issuer, account }) {
      // The label is "issuer:account"; a colon inside either would make it ambiguous (Key URI Format).
      if (issuer.includes(':') || account.includes(':')) throw new Error('TOTP issuer and account must not contain ":"');
      return generateURI({ issuer, label: account, secret, algorithm: 'sha1', digits: DIGITS, period: PERIOD });
    },

    // qrcode loads at the first enrolment, not with every process that may verify a code.
    qrSvg: async (uri) => (await import('qrcode')).default.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),

    async verify(secret, code, replayKey) {
      // Only exactly six ASCII digits reach the crypto; otplib would throw on anything else.
      if (!/^[0-9]{6}$/.test(code)) return false;
      const epoch = Math.floor(now() / 1000);
      const lastKey = `totp:last:${replayKey}`;
      const last = await ephemeral.get(lastKey);
      const lastStep = last === undefined ? undefined : Number(last);
      // otplib refuses an afterTimeStep beyond the window; then no code in the window can be newer.
      if (lastStep !== undefined && lastStep > Math.floor(epoch / PERIOD) + DRIFT_STEPS) return false;

      const result = await verifyOtp({
        secret,
        token: code,
        epoch,
        epochTolerance: DRIFT_STEPS * PERIOD,
        afterTimeStep: lastStep,
        algorithm: 'sha1',
        digits: DIGITS,
        period: PERIOD,
      });
      // otplib types the result as TOTP-or-HOTP; only a TOTP match carries its time step.
      if (!result.valid || !('timeStep' in result)) return false;

      // The same code twice (two tabs, a replayed request): only the first claim wins, atomically.
      const fresh = await ephemeral.setIfAbsent(`totp:used:${replayKey}:${result.timeStep}`, '1', REPLAY_TTL_SECONDS);
      if (!fresh) return false;
      // An older code still inside the drift window must not work after a newer one did.
      const current = await ephemeral.get(lastKey);
      if (current === undefined || Number(current) < result.timeStep) {
        await ephemeral.set(lastKey, String(result.timeStep), REPLAY_TTL_SECONDS);
      }
      return true;
    },
  };
}
