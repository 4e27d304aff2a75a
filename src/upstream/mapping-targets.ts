// Mapping rules name roles, teams, locations, institutions and applications by key: each must
// exist when the rules are saved, and `connection test` / `directory test` check them again (a
// role deleted since would refuse sign-ins and syncs).
import { ValidationError } from '../errors.ts';
import type { Repos } from '../storage/index.ts';
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
