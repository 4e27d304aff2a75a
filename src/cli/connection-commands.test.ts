import { parseMapRule } from './connection-commands.ts';

describe('--map rules', () => {
  it('reads a claim, a value and a role with a scope', () => {
    expect(parseMapRule('groups=ER Nurses -> role:provider@location:loc-north')).toEqual({ claim: 'groups', equals: 'ER Nurses', role: 'provider', scope: { type: 'location', key: 'loc-north' } });
    expect(parseMapRule('groups=a1b2c3d4-0000-4000-8000-000000000000 -> role:billing@application:ehr')).toEqual({ claim: 'groups', equals: 'a1b2c3d4-0000-4000-8000-000000000000', role: 'billing', scope: { type: 'application', clientId: 'ehr' } });
  });

  it('reads team and phi grants, and a claim that matches any value', () => {
    expect(parseMapRule('department=Research -> team:study-coordinators')).toEqual({ claim: 'department', equals: 'Research', team: 'study-coordinators' });
    expect(parseMapRule('groups=PHI -> phi')).toEqual({ claim: 'groups', equals: 'PHI', phi: true });
    expect(parseMapRule('title -> role:report_viewer')).toEqual({ claim: 'title', role: 'report_viewer' });
  });

  it('says what is wrong with a rule it cannot read', () => {
    expect(() => parseMapRule('groups=x role:y')).toThrow(/expected/);
    expect(() => parseMapRule('groups=x -> admin')).toThrow(/grant must be/);
    expect(() => parseMapRule('groups=x -> role:y@region:east')).toThrow(/scope must be/);
  });
});
