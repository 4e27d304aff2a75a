import { evaluateMappings, mappingRule, mappingRules } from './mapping-rules.ts';

const rules = mappingRules.parse([
  { claim: 'groups', equals: 'ER Nurses', role: 'provider', scope: { type: 'location', key: 'loc-north' } },
  { claim: 'groups', equals: ['Billing', 'Billing-Leads'], role: 'billing' },
  { claim: 'department', equals: 'research', team: 'study-coordinators' },
  { claim: 'groups', equals: 'PHI-Approved', phi: true },
  { claim: 'title', role: 'report_viewer' },
]);

describe('mapping rules', () => {
  it('grants what every matching rule names, comparing values without regard to case', () => {
    const outcome = evaluateMappings(rules, { groups: ['er nurses', 'BILLING'], department: ['Research'] });
    expect(outcome.roles).toEqual([
      { role: 'provider', scope: { type: 'location', key: 'loc-north' } },
      { role: 'billing', scope: { type: 'tenant' } },
    ]);
    expect(outcome.teams).toEqual(['study-coordinators']);
    expect(outcome.matched).toEqual([0, 1, 2]);
  });

  it('owns the PHI flag only when a rule speaks of it: false when that rule does not match', () => {
    expect(evaluateMappings(rules, { groups: ['PHI-Approved'] }).phi).toBe(true);
    expect(evaluateMappings(rules, { groups: [] }).phi).toBe(false);
    expect(evaluateMappings(mappingRules.parse([{ claim: 'groups', equals: 'x', role: 'billing' }]), {}).phi).toBeUndefined();
  });

  it('matches a rule without a value when the claim is present and not empty', () => {
    expect(evaluateMappings(rules, { title: ['Charge Nurse'] }).roles).toEqual([{ role: 'report_viewer', scope: { type: 'tenant' } }]);
    expect(evaluateMappings(rules, { title: [''] }).roles).toEqual([]);
  });

  it('stops at the first matching rule marked stop (first-match-wins sections)', () => {
    const tiered = mappingRules.parse([
      { claim: 'groups', equals: 'Admins', role: 'admin', stop: true },
      { claim: 'groups', equals: 'Staff', role: 'report_viewer' },
    ]);
    expect(evaluateMappings(tiered, { groups: ['Admins', 'Staff'] }).roles.map((r) => r.role)).toEqual(['admin']);
    expect(evaluateMappings(tiered, { groups: ['Staff'] }).roles.map((r) => r.role)).toEqual(['report_viewer']);
  });

  it('lists a role once however many rules grant it at the same scope', () => {
    const twice = mappingRules.parse([{ claim: 'groups', equals: 'a', role: 'billing' }, { claim: 'groups', equals: 'b', role: 'billing' }]);
    expect(evaluateMappings(twice, { groups: ['a', 'b'] }).roles).toHaveLength(1);
  });

  it('refuses a rule that grants nothing, or a scope without a role', () => {
    expect(mappingRule.safeParse({ claim: 'groups', equals: 'x' }).success).toBe(false);
    expect(mappingRule.safeParse({ claim: 'groups', team: 't', scope: { type: 'tenant' } }).success).toBe(false);
    expect(mappingRule.safeParse({ claim: 'groups', role: 'Not A Key' }).success).toBe(false);
  });
});
