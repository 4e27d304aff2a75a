// What the OIDC side needs to know about SAML at logout: whether SAML applications share this
// sign-on session, and where the logout page's "Sign out" button goes when they do.
import type { EphemeralStore } from '../ephemeral/index.ts';

export const participantsKey = (tenantId: string, sessionUid: string) => `saml:${tenantId}:participants:${sessionUid}`;

/** The path (under /t/{tenant}) that signs out of the SAML applications, then of the session. */
export const SAML_LOGOUT_PATH = '/saml/logout';

export async function samlParticipantsOf(ephemeral: EphemeralStore, tenantId: string, sessionUid: string | undefined): Promise<number> {
  return sessionUid ? (await ephemeral.members(participantsKey(tenantId, sessionUid))).length : 0;
}
