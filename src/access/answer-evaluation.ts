// Answers one AuthZEN evaluation for the asking application, in steps: the permission is in the
// application's catalogue (else it is not its question to ask); the properties Caregate reads are
// well formed; the subject is an active user of the tenant, of the kind its type names; then the one
// evaluator tokens come from — the claims a token issued now for this application would carry
// (projectClaims over the snapshot in the claims cache), read as can() reads them (decide). The
// cache is emptied by every audited change, so a disabled user or a removed role is a "no" at once
// on this node, and within the cache's sync on the others.
import { basePermission, decide, type AccessQuestion, type ProjectedClaims } from '../authz/index.ts';
import type { AuthenticatedClient } from '../oidc/index.ts';
import type { User } from '../storage/index.ts';
import { addressOf, API_KEY_SUBJECT, SUBJECT_TYPES, toQuestion, type EvaluationRequest } from './authzen-request.ts';

/** An AuthZEN Decision (Information Model): the answer, and for a "no" why, or what went wrong. */
export interface AuthzenDecision {
  decision: boolean;
  context?: { reason?: string; error?: { status: number; message: string } } & Record<string, unknown>;
}

/** What the endpoint reads per subject: an active user, and the claims projected for the asking application. */
export interface SubjectSource {
  findActiveUser(userId: string): Promise<User | undefined>;
  forUser(user: User, target: { applicationId: string; catalogue: readonly string[] }, address?: string): Promise<Record<string, unknown>>;
  /** The account behind a presented API key and what the key carries, or why it does not count. */
  apiKey(value: string, address: string | undefined): Promise<{ user: User; permissions: readonly string[] } | { refused: string }>;
  forKey(user: User, permissions: readonly string[], target: { applicationId: string; catalogue: readonly string[] }, address?: string): Promise<Record<string, unknown>>;
}

export const refusedAsk = (status: number, message: string): AuthzenDecision => ({ decision: false, context: { error: { status, message } } });

/** The permission's place in the application's catalogue (either form of an own-only permission counts). */
export const inCatalogue = (client: AuthenticatedClient, permission: string) => client.catalogue.some((p) => basePermission(p) === basePermission(permission));

export function createEvaluationAnswerer(source: SubjectSource, client: AuthenticatedClient) {
  // Within one request each subject is read and projected once per address, however many evaluations name it.
  const projections = new Map<string, Promise<{ user: User; claims: ProjectedClaims } | { refused: string } | undefined>>();
  const target = { applicationId: client.applicationId, catalogue: client.catalogue };

  function subjectClaims(type: keyof typeof SUBJECT_TYPES | typeof API_KEY_SUBJECT, id: string, address: string | undefined) {
    const key = `${type}:${id}@${address ?? ''}`;
    let found = projections.get(key);
    if (!found) {
      found = (async () => {
        if (type === API_KEY_SUBJECT) {
          // The key is checked (and its use counted against its limit) once per request.
          const holder = await source.apiKey(id, address);
          if ('refused' in holder) return holder;
          return { user: holder.user, claims: (await source.forKey(holder.user, holder.permissions, target, address)) as unknown as ProjectedClaims };
        }
        const user = await source.findActiveUser(id);
        if (!user || user.kind !== SUBJECT_TYPES[type]) return undefined;
        // forUser is the token projection ({tenant, tenant_id, ...projectClaims}); its claims are read as such.
        return { user, claims: (await source.forUser(user, target, address)) as unknown as ProjectedClaims };
      })();
      projections.set(key, found);
    }
    return found;
  }

  return async function answer(evaluation: EvaluationRequest): Promise<AuthzenDecision> {
    // 1. Only about the application's own permissions.
    if (!inCatalogue(client, evaluation.action.name)) return refusedAsk(403, `"${evaluation.action.name}" is not a permission of this application's catalogue.`);
    // 2. Well-formed properties.
    const question: AccessQuestion | { invalid: string } = toQuestion(evaluation);
    if ('invalid' in question) return refusedAsk(400, question.invalid);
    const address = addressOf(evaluation);
    if (typeof address === 'object') return refusedAsk(400, address.invalid);
    // 3. An active subject of a type Caregate knows.
    const type = evaluation.subject.type;
    if (!Object.hasOwn(SUBJECT_TYPES, type) && type !== API_KEY_SUBJECT) return { decision: false, context: { reason: 'unsupported_subject_type' } };
    const subject = await subjectClaims(type as keyof typeof SUBJECT_TYPES | typeof API_KEY_SUBJECT, evaluation.subject.id, address);
    if (!subject) return { decision: false, context: { reason: 'unknown_subject' } };
    if ('refused' in subject) return { decision: false, context: { reason: subject.refused } };
    // 4. The evaluator.
    const decision = decide(subject.user.id, subject.claims, question);
    return decision.allowed ? { decision: true } : { decision: false, context: { reason: decision.reason } };
  };
}
