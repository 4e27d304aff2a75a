// Mapping rules: an upstream claim or attribute value → a role (with a scope), a team, or the PHI
// flag. Rules are evaluated in order; `stop` ends evaluation at the first rule of it that matches
// (first-match-wins sections). The result is the complete set a source grants — the caller
// replaces what that source granted before, so removing an upstream group removes the role.
import { z } from 'zod';
import { schemas } from '../accounts/index.ts';

const value = z.string().min(1).max(512);

export const mappingRule = z
  .strictObject({
    claim: z.string().min(1).max(200).describe('Upstream claim or attribute to test: groups, department, title, or any other'),
    equals: z.union([value, z.array(value).min(1).max(200)]).optional()
      .describe('Value(s) that match, compared without regard to case; omitted: the claim is present with any value'),
    role: schemas.keySchema.optional().describe('Role to grant'),
    scope: schemas.scopeInput.optional().describe('Where the role applies (default: tenant-wide)'),
    team: schemas.keySchema.optional().describe('Team to make the user a member of'),
    phi: z.literal(true).optional().describe('Set the PHI flag (a source with a phi rule owns the flag)'),
    stop: z.boolean().optional().describe('Stop evaluating further rules when this one matches'),
  })
  .refine((r) => r.role || r.team || r.phi, 'a rule grants something: role, team or phi')
  .refine((r) => !r.scope || r.role, 'scope: only with role');

export const mappingRules = z.array(mappingRule).max(500);
export type MappingRule = z.output<typeof mappingRule>;
export type Scope = z.output<typeof schemas.scopeInput>;

export interface MappingOutcome {
  /** Role grants, deduplicated. */
  roles: Array<{ role: string; scope: Scope }>;
  teams: string[];
  /** undefined when no rule speaks of PHI (the source leaves the flag alone). */
  phi: boolean | undefined;
  /** Indexes of the rules that matched, for the audit log. */
  matched: number[];
}

const fold = (s: string) => s.normalize('NFC').toLowerCase();

function matches(rule: MappingRule, attributes: Record<string, string[]>): boolean {
  const values = attributes[rule.claim] ?? [];
  if (rule.equals === undefined) return values.some((v) => v !== '');
  const wanted = new Set((Array.isArray(rule.equals) ? rule.equals : [rule.equals]).map(fold));
  return values.some((v) => wanted.has(fold(v)));
}

const scopeKey = (s: Scope) => (s.type === 'tenant' ? 'tenant' : s.type === 'application' ? `application:${s.clientId}` : `${s.type}:${s.key}`);

export function evaluateMappings(rules: MappingRule[], attributes: Record<string, string[]>): MappingOutcome {
  const roles = new Map<string, { role: string; scope: Scope }>();
  const teams = new Set<string>();
  const speaksOfPhi = rules.some((r) => r.phi);
  let phi = false;
  const matched: number[] = [];
  for (const [index, rule] of rules.entries()) {
    if (!matches(rule, attributes)) continue;
    matched.push(index);
    if (rule.role) {
      const scope = rule.scope ?? { type: 'tenant' as const };
      roles.set(`${rule.role}@${scopeKey(scope)}`, { role: rule.role, scope });
    }
    if (rule.team) teams.add(rule.team);
    if (rule.phi) phi = true;
    if (rule.stop) break;
  }
  return { roles: [...roles.values()], teams: [...teams], phi: speaksOfPhi ? phi : undefined, matched };
}
