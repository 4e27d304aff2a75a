// Passkeys (WebAuthn): options for the browser and verification of what it sends back. Each
// ceremony's challenge lives in the ephemeral store under its flow id and is taken on first use, so
// a response is accepted at most once and only for the flow that asked for it.
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { EphemeralStore } from '../ephemeral/index.ts';

/** Loaded at the first ceremony: a process that never sees a passkey (a CLI command) never loads it. */
const simpleWebAuthn = () => import('@simplewebauthn/server');

export type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON };

export interface PasskeyRecord {
  /** base64url credential id, as the browser reports it. */
  credentialId: string;
  /** base64url COSE public key. */
  publicKey: string;
  counter: number;
  transports?: string[];
  name?: string;
}

export interface RelyingParty {
  /** The RP ID: the hostname passkeys are bound to. */
  id: string;
  name: string;
  /** The exact origin the browser reports, e.g. https://login.clinic.example */
  origin: string;
}

export interface PasskeyUser {
  id: string;
  username: string;
  displayName?: string | null;
}

export interface PasskeyAuthentication {
  userId: string;
  credentialId: string;
  newCounter: number;
  userVerified: boolean;
}

export type PasskeyLookup = (credentialId: string) => Promise<(PasskeyRecord & { userId: string }) | undefined>;

type Ceremony = 'registration' | 'authentication';

// EdDSA, ES256, RS256. Pinned: the library's default adds ML-DSA-44 when the runtime has it (an
// experimental Web Crypto API on Node 24), and a passkey must verify on every node, Node 22 too.
const ALGORITHMS = [-8, -7, -257];
const CHALLENGE_TTL_SECONDS = 300;
const TIMEOUT_MS = CHALLENGE_TTL_SECONDS * 1000;
const challengeKey = (flowId: string) => `webauthn:challenge:${flowId}`;
const fromB64u = (value: string) => Uint8Array.from(Buffer.from(value, 'base64url'));
const toB64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const descriptor = (p: PasskeyRecord) => ({ id: p.credentialId, transports: p.transports });

export function createWebAuthn(ephemeral: EphemeralStore) {
  /** Remembers the challenge for this flow; a new ceremony on the same flow replaces the old one. */
  async function remember(flowId: string, ceremony: Ceremony, challenge: string): Promise<void> {
    await ephemeral.set(challengeKey(flowId), JSON.stringify({ ceremony, challenge }), CHALLENGE_TTL_SECONDS);
  }

  /** Takes the flow's challenge (single use, even when verification then fails). */
  async function takeChallenge(flowId: string, ceremony: Ceremony): Promise<string | undefined> {
    const stored = await ephemeral.take(challengeKey(flowId));
    if (!stored) return undefined;
    const parsed = JSON.parse(stored) as { ceremony: Ceremony; challenge: string };
    return parsed.ceremony === ceremony ? parsed.challenge : undefined;
  }

  return {
    /** Options for navigator.credentials.create(); existing passkeys are excluded so a device is not enrolled twice. */
    async registrationOptions(rp: RelyingParty, user: PasskeyUser, existing: PasskeyRecord[], flowId: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const options = await (await simpleWebAuthn()).generateRegistrationOptions({
        rpName: rp.name,
        rpID: rp.id,
        userID: new TextEncoder().encode(user.id),
        userName: user.username,
        userDisplayName: user.displayName ?? user.username,
        timeout: TIMEOUT_MS,
        attestationType: 'none',
        excludeCredentials: existing.map(descriptor),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
        supportedAlgorithmIDs: ALGORITHMS,
      });
      await remember(flowId, 'registration', options.challenge);
      return options;
    },

    /** The new passkey, or null when the response is malformed, for another challenge, origin or RP, or fails verification. */
    async verifyRegistration(rp: RelyingParty, flowId: string, response: unknown): Promise<PasskeyRecord | null> {
      const expectedChallenge = await takeChallenge(flowId, 'registration');
      if (!expectedChallenge || !isCredentialJson(response)) return null;
      try {
        const result = await (await simpleWebAuthn()).verifyRegistrationResponse({
          response: response as unknown as RegistrationResponseJSON,
          expectedChallenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.id,
          // 'preferred' at the options: a security key without a PIN is still a second factor.
          requireUserVerification: false,
          supportedAlgorithmIDs: ALGORITHMS,
        });
        if (!result.verified) return null;
        const { credential } = result.registrationInfo;
        return {
          credentialId: credential.id,
          publicKey: toB64u(credential.publicKey),
          counter: credential.counter,
          ...(credential.transports?.length ? { transports: [...credential.transports] } : {}),
        };
      } catch {
        return null;
      }
    },

    /** Options for navigator.credentials.get(); an empty allow list asks for a discoverable passkey (passwordless). */
    async authenticationOptions(rp: RelyingParty, allowed: PasskeyRecord[], flowId: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const options = await (await simpleWebAuthn()).generateAuthenticationOptions({
        rpID: rp.id,
        allowCredentials: allowed.map(descriptor),
        userVerification: 'preferred',
        timeout: TIMEOUT_MS,
      });
      await remember(flowId, 'authentication', options.challenge);
      return options;
    },

    /**
     * Who signed in, or null. Refuses a reused or foreign challenge, an unknown credential, a user
     * handle that names someone other than the credential's owner, and a signature counter that did
     * not move forward (a cloned authenticator, WebAuthn §6.1.1) once the authenticator counts.
     */
    async verifyAuthentication(rp: RelyingParty, flowId: string, response: unknown, lookup: PasskeyLookup): Promise<PasskeyAuthentication | null> {
      const expectedChallenge = await takeChallenge(flowId, 'authentication');
      if (!expectedChallenge || !isCredentialJson(response)) return null;
      try {
        const passkey = await lookup(response.id);
        if (!passkey || passkey.credentialId !== response.id) return null;
        const userHandle = response.response.userHandle;
        if (typeof userHandle === 'string' && userHandle !== '' && userHandle !== toB64u(new TextEncoder().encode(passkey.userId))) return null;
        const result = await (await simpleWebAuthn()).verifyAuthenticationResponse({
          response: response as unknown as AuthenticationResponseJSON,
          expectedChallenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.id,
          credential: { id: passkey.credentialId, publicKey: fromB64u(passkey.publicKey), counter: passkey.counter, transports: passkey.transports },
          requireUserVerification: false,
        });
        if (!result.verified) return null;
        const { newCounter, userVerified, credentialID } = result.authenticationInfo;
        // The library checks this too; kept explicit because it is the clone-detection rule.
        if ((passkey.counter > 0 || newCounter > 0) && newCounter <= passkey.counter) return null;
        return { userId: passkey.userId, credentialId: credentialID, newCounter, userVerified };
      } catch {
        return null;
      }
    },
  };
}

export type WebAuthn = ReturnType<typeof createWebAuthn>;

/** The outer shape every WebAuthn response JSON has; the library checks the rest. */
function isCredentialJson(value: unknown): value is { id: string; type: string; response: Record<string, unknown> } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.id === 'string' && v.id !== '' && v.type === 'public-key' && typeof v.response === 'object' && v.response !== null;
}
