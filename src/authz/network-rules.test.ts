import { describe, expect, it } from '@jest/globals';
import { neighbourhoodOf, networkPredicate, normaliseRanges, parseRange, rangeMatcher, tenantAllows } from './network-rules.ts';
import type { RoleDefinition } from './role-permissions.ts';

const role = (id: string, parentId: string | null = null): RoleDefinition => ({ id, key: id, parentId, permissions: [], removedPermissions: [], requiresPhi: false });

describe('ranges as people type them', () => {
  it('normalises IPv4 and IPv6 ranges and bare addresses, deduplicated', () => {
    expect(normaliseRanges(['10.20.0.0/16', '2001:DB8:0005::/48', '2001:db8:5::/48', '192.0.2.7', '::1'])).toEqual(['10.20.0.0/16', '2001:db8:5::/48', '192.0.2.7/32', '::1/128']);
  });

  it.each([['10.20.3.4/16', /host bits.*10\.20\.0\.0\/16/], ['2001:db8:5::1/48', /2001:db8:5::\/48/], ['10.0.0.0/33', /0 to 32/], ['::/129', /0 to 128/], ['clinic', /not an IPv4 or IPv6/], ['fe80::1%eth0', /not an IPv4/], ['10.0.0.0/8/8', /not an IPv4/], ['010.0.0.0/8', /not an IPv4/]])(
    'refuses %s, saying why', (text, message) => expect(() => parseRange(text)).toThrow(message),
  );
});

describe('matching a client address', () => {
  const clinic = rangeMatcher(['10.20.0.0/16', '2001:db8:5::/48']);
  it('matches both families, and IPv4-mapped IPv6 against IPv4 ranges', () => {
    expect(['10.20.255.1', '::ffff:10.20.0.9', '2001:db8:5:ffff::1'].map(clinic)).toEqual([true, true, true]);
    expect(['10.21.0.1', '::ffff:10.21.0.1', '2001:db8:6::1', '::1', '', 'unknown'].map(clinic)).toEqual([false, false, false, false, false, false]);
  });

  it('groups addresses by /24 (IPv4, mapped too) and /48 (IPv6) for new-place alerts', () => {
    expect([neighbourhoodOf('10.20.3.4'), neighbourhoodOf('::ffff:10.20.3.99'), neighbourhoodOf('2001:db8:5:1:2::9'), neighbourhoodOf('nonsense')]).toEqual(['10.20.3.0/24', '10.20.3.0/24', '2001:db8:5::/48', null]);
  });
});

describe('rules over roles', () => {
  const roles = new Map([['nurse', role('nurse')], ['charge_nurse', role('charge_nurse', 'nurse')], ['clerk', role('clerk')]]);
  const rules = [{ roleId: 'nurse', ranges: ['10.20.0.0/16'] }, { roleId: null, ranges: ['10.0.0.0/8', '2001:db8::/32'] }];

  it('binds a role with a rule and the roles inheriting from it; others go anywhere', () => {
    const inside = networkPredicate(rules, roles, '10.20.1.1');
    const outside = networkPredicate(rules, roles, '10.99.1.1');
    expect(['nurse', 'charge_nurse', 'clerk'].map(inside)).toEqual([true, true, true]);
    expect(['nurse', 'charge_nurse', 'clerk'].map(outside)).toEqual([false, false, true]);
  });

  it('reads the tenant-wide rule apart from the role rules; no tenant rule allows every address', () => {
    expect([tenantAllows(rules, '10.99.1.1'), tenantAllows(rules, '2001:db8:1::1'), tenantAllows(rules, '192.0.2.1'), tenantAllows(rules, '')]).toEqual([true, true, false, false]);
    expect(tenantAllows(rules.slice(0, 1), '192.0.2.1')).toBe(true);
  });
});
