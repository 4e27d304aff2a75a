// Mapping rules name roles, teams, locations, institutions and applications by key: each must
// exist when the rules are saved, and `connection test` / `directory test` check them again (a
// role deleted since would refuse sign-ins and syncs).
import { assertMayGrant, resolveScope, type Actor, type Grant } from '../accounts/index.ts';
import { ValidationError } from '../errors.ts';
import type { Repos, Tenant } from '../storage/index.ts';
import type { MappingRule } from './mapping-rules.ts';

export async function checkMappingTargets(tx: Repos, tenantId: string, rules: MappingRule[]) {
  const missing: string[] = [];
  for (const [i, rule] of rules.entries()) {
    if (rule.role && !(await tx.roles.findOneBy({ tenantId, key: rule.role }))) missing.push(`mappings.${i}.role: role "${rule.role}" does not exist`);
    if (rule.team && !(await tx.teams.findOneBy({ tenantId, key: rule.team }))) missing.push(`mappings.${i}.team: team "${rule.team}" does not exist`);
    const scope = rule.scope;
    if (scope?.type === 'location' && !(await tx.locations.findOneBy({ tenantId, key: scope.key }))) missing.push(`mappings.${i}.scope: location "${scope.key}" does not exist`);
    if (scope?.type === 'institution' && !(await tx.institutions.findOneBy({ tenantId, key: scope.key }))) missing.push(`mappings.${i}.scope: institution "${scope.key}" does not exist`);
    if (scope?.type === 'application' && !(await tx.applications.findOneBy({ tenantId, clientId: scope.clientId }))) missing.push(`mappings.${i}.scope: application "${scope.clientId}" does not exist`);
  }
  if (missing.length) throw new ValidationError(missing.join('; '), { issues: missing });
}

/** The same check as a test finding. */
export async function mappingTargetFindings(tx: Repos, tenantId: string, rules: MappingRule[]) {
  try {
    await checkMappingTargets(tx, tenantId, rules);
    return [{ check: 'mapping rules', ok: true, detail: `${rules.length} rule(s); every role, team, location, institution and application they name exists` }];
  } catch (error) {
    return [{ check: 'mapping rules', ok: false, detail: (error as Error).message }];
  }
}

/**
 * Mapping rules grant roles and team memberships to whoever signs in or is synced, the actor
 * included: saving them needs the rights to grant each role (and each mapped team's roles) at its
 * scope. Run after checkMappingTargets (every target exists).
 */
export async function checkMappingGrants(tx: Repos, tenant: Tenant, actor: Actor, rules: MappingRule[]) {
  const grants: Grant[] = [];
  for (const rule of rules) {
    if (rule.role) {
      const role = await tx.roles.findOneBy({ tenantId: tenant.id, key: rule.role });
      if (role) grants.push({ roleId: role.id, ...(await resolveScope(tx, tenant, rule.scope ?? { type: 'tenant' })) });
    }
    const team = rule.team ? await tx.teams.findOneBy({ tenantId: tenant.id, key: rule.team }) : null;
    if (team) grants.push(...(await tx.assignments.findBy({ tenantId: tenant.id, teamId: team.id })));
  }
  await assertMayGrant(tx, tenant, actor, grants, [], 'map to');
}
