// Client secret rotation with an overlap: the new secret is returned once, and the secret it
// replaces keeps authenticating the client until the overlap ends (src/oidc/client-metadata.ts), so
// an application's instances move to the new one at their own pace. One previous secret is kept:
// rotating again ends the earlier overlap; an overlap of 0 stops the old secret at once.
import { randomBytes } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import { requireTenant, type AccountsContext, type Actor } from './context.ts';
import { loadAuthority } from './admin-authority.ts';
import { parseInput } from './parse-input.ts';
import { secretRotation, type SecretRotation } from './schemas.ts';
import { publicApplication, requireApplication, secretContext } from './application-rules.ts';
import { assertMayActAsService } from './service-account.ts';
import { assertMayManageAdminApiApplication } from './admin-api-application.ts';

export async function rotateClientSecret(ctx: AccountsContext, tenantSlug: string, clientId: string, raw: SecretRotation, actor: Actor) {
  const { overlapMinutes } = parseInput(secretRotation, raw);
  return ctx.storage.transaction(async (tx) => {
    const tenant = await requireTenant(tx, tenantSlug);
    const before = await requireApplication(tx, tenant.id, clientId);

    // 1. The actor edits this application, and may act as its service account: whoever holds the
    //    secret does, so a new one is revealed only to someone holding every role that account holds.
    await (await loadAuthority(tx, tenant, actor)).require('caregate.applications:edit', { kind: 'application', applicationId: before.id });
    if (!before.clientSecretSealed) throw new ConflictError(`application "${clientId}" is public: it has no client secret to rotate`);
    await assertMayActAsService(tx, tenant, actor, before.serviceUserId, 'obtain the secret of an application whose service account holds');
    if (before.adminApi) await assertMayManageAdminApiApplication(tx, tenant, actor, `rotate the secret of application "${clientId}"`);

    // 2. The new secret becomes the current one; the current one, the previous one until the overlap ends.
    const now = new Date();
    const clientSecret = randomBytes(32).toString('base64url');
    const previousSecretExpiresAt = overlapMinutes ? new Date(now.getTime() + overlapMinutes * 60_000) : null;
    await tx.applications.update({ id: before.id }, {
      clientSecretSealed: ctx.box.seal(clientSecret, secretContext(clientId)),
      previousSecretSealed: previousSecretExpiresAt ? before.clientSecretSealed : null,
      previousSecretExpiresAt,
    });

    // 3. Audited without either secret: what was issued, until when the old one works, and whether an earlier overlap was cut short.
    const after = await requireApplication(tx, tenant.id, clientId);
    await ctx.audit.record({
      tenantId: tenant.id, actor, action: 'application.secret.rotate', target: { type: 'application', id: before.id },
      before: publicApplication(before), after: publicApplication(after),
      details: {
        overlapMinutes,
        previousSecret: previousSecretExpiresAt ? 'accepted until previousSecretExpiresAt' : 'revoked',
        previousSecretExpiresAt,
        earlierOverlapEnded: Boolean(before.previousSecretExpiresAt && before.previousSecretExpiresAt > now),
      },
    }, tx);
    return { client_id: clientId, client_secret: clientSecret, previousSecretExpiresAt };
  });
}
