// One-time access (issue 18): an elevation approved with oneTime is carried by the first token
// issued with it, and by no other. "A token" is what Caregate issues to an application: the
// tokens of one token-endpoint response (code exchange, refresh, client credentials — its access
// token and ID token together) or one SAML assertion. The first issuance whose claims would
// include the grant consumes it in one conditional UPDATE (only one of two racing issuances, on any
// node, wins): the request is stamped consumed, the assignment removed, `elevation.consume` audited
// with the client. The loser, and every later issuance (a refresh of the winner's token too),
// leaves it out. Userinfo and the live decision endpoint are not issuances: they never consume and
// never show an unconsumed one-time grant.
import { contributingAssignments, type AuthzSnapshot, type ProjectionTarget } from '../authz/index.ts';
import type { AuditWriter } from '../audit/index.ts';
import { queries, type Storage, type User } from '../storage/index.ts';
import type { ClaimsCache } from './claims-cache.ts';

/** Who a token is issued to, for the audit trail. */
export interface IssuanceParty {
  client: string | null;
  protocol: 'oidc' | 'saml';
}

/** The snapshot without one-time grants: what every path but a token issuance sees. */
export function withoutOneTime(snapshot: AuthzSnapshot): AuthzSnapshot {
  return snapshot.assignments.some((a) => a.oneTime) ? { ...snapshot, assignments: snapshot.assignments.filter((a) => !a.oneTime) } : snapshot;
}

const idOf = (a: AuthzSnapshot['assignments'][number]) => (a as { id?: string }).id;

export function createOneTimeGrants(deps: { storage: Storage; audit: AuditWriter; claimsCache: ClaimsCache }) {
  // Per issuance (the request object), the one-time grants it tried: the grant when it won it,
  // null when it lost. Kept, since the grant it won is gone from the store (and so from the
  // snapshots the issuance's next tokens load). Weak, so a finished request takes them with it.
  type Tried = Map<string, Promise<AuthzSnapshot['assignments'][number] | null>>;
  const decided = new WeakMap<object, Tried>();

  async function consume(tenantId: string, user: User, assignmentId: string, party: IssuanceParty): Promise<boolean> {
    const request = await deps.storage.transaction(async (tx) => {
      const consumed = await queries.accessRequests.consumeOneTime(tx, assignmentId);
      if (consumed) {
        await deps.audit.record({
          tenantId, actor: { type: 'user', id: user.id }, action: 'elevation.consume', target: { type: 'access_request', id: consumed.id },
          details: { assignmentId, client: party.client, protocol: party.protocol, roleId: consumed.roleId },
        }, tx);
      }
      return consumed;
    });
    // The grant is gone: no node's cached snapshot should keep offering it (a stale one only
    // costs a lost race, never a second token with it).
    if (request) await deps.claimsCache.invalidate(tenantId);
    return Boolean(request);
  }

  return {
    /**
     * The snapshot a token issued in `issuance` for `target` carries: the one-time grants it would
     * carry are consumed first, and kept only where this issuance won them. No query when the
     * snapshot holds no one-time grant.
     */
    async forIssue(issuance: object, tenantId: string, user: User, snapshot: AuthzSnapshot, target: ProjectionTarget, party: IssuanceParty): Promise<AuthzSnapshot> {
      const mine = decided.get(issuance);
      if (!mine && !snapshot.assignments.some((a) => a.oneTime)) return snapshot;
      const tried: Tried = mine ?? new Map();
      decided.set(issuance, tried);
      for (const a of contributingAssignments(snapshot, target, new Date())) {
        const id = idOf(a);
        if (!a.oneTime || !id || tried.has(id)) continue;
        const grant = snapshot.assignments.find((g) => idOf(g) === id)!;
        tried.set(id, consume(tenantId, user, id, party).then((won) => (won ? grant : null)));
      }
      const won = (await Promise.all(tried.values())).filter((g) => g !== null);
      const others = snapshot.assignments.filter((a) => !a.oneTime);
      return { ...snapshot, assignments: [...others, ...won] };
    },
  };
}
export type OneTimeGrants = ReturnType<typeof createOneTimeGrants>;
