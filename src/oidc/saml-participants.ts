// The SAML applications that share a sign-on session: the SAML endpoints record them, and the OIDC
// logout page asks whether there are any and, when there are, sends "Sign out" to SAML_LOGOUT_PATH.
import type { EphemeralStore } from '../ephemeral/index.ts';

export const samlParticipantsKey = (tenantId: string, sessionUid: string) => `saml:${tenantId}:participants:${sessionUid}`;

/** The path (under /t/{tenant}) that signs out of the SAML applications, then of the session. */
export const SAML_LOGOUT_PATH = '/saml/logout';

export async function samlParticipantsOf(ephemeral: EphemeralStore, tenantId: string, sessionUid: string | undefined): Promise<number> {
  return sessionUid ? (await ephemeral.members(samlParticipantsKey(tenantId, sessionUid))).length : 0;
}
