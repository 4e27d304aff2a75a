// Permission strings and their projection onto one application's catalogue.
import { describe, expect, it } from '@jest/globals';
import { basePermission, isPermission, projectPermissions } from './permissions.ts';

const ehr = ['patients:read', 'patients:edit', 'notes:read', 'notes:edit:own', 'notes:delete', 'billing:charges:approve'];

describe('projectPermissions', () => {
  it('keeps only permissions that appear in the application catalogue', () => {
    const projected = projectPermissions(['patients:read', 'inventory:read', 'reports:export'], ehr);
    expect(projected).toEqual(['patients:read']);
  });

  it('returns the result sorted and without duplicates', () => {
    expect(projectPermissions(['patients:read', 'notes:read', 'patients:read'], ehr)).toEqual(['notes:read', 'patients:read']);
  });

  it('expands "*" to every permission of the catalogue and nothing beyond it', () => {
    const projected = projectPermissions(['*'], ['patients:read', 'notes:delete']);
    expect(projected).toEqual(['notes:delete', 'patients:read']);
  });

  it('expands "feature:*" to every action of that feature only', () => {
    const projected = projectPermissions(['patients:*'], ehr);
    expect(projected).toEqual(['patients:edit', 'patients:read']);
  });

  it('expands "feature:*" over nested actions ("billing:*" reaches "billing:charges:approve")', () => {
    expect(projectPermissions(['billing:*'], ehr)).toEqual(['billing:charges:approve']);
  });

  it('does not let "feature:*" reach another feature sharing its prefix', () => {
    expect(projectPermissions(['note:*'], ehr)).toEqual([]);
  });

  it('keeps an own-only grant when the catalogue declares the action', () => {
    expect(projectPermissions(['notes:edit:own'], ehr)).toEqual(['notes:edit:own']);
  });

  it('drops the own-only form when the full grant is also held, whatever the order', () => {
    expect(projectPermissions(['notes:edit:own', 'notes:edit'], ehr)).toEqual(['notes:edit']);
    expect(projectPermissions(['notes:edit', 'notes:edit:own'], ehr)).toEqual(['notes:edit']);
  });

  it('returns nothing for an empty catalogue, even with "*"', () => {
    expect(projectPermissions(['*', 'patients:read'], [])).toEqual([]);
  });
});

describe('basePermission', () => {
  it('strips the ":own" qualifier and leaves full permissions unchanged', () => {
    expect(basePermission('notes:edit:own')).toBe('notes:edit');
    expect(basePermission('notes:edit')).toBe('notes:edit');
  });
});

describe('isPermission', () => {
  it.each(['patients:read', 'notes:edit:own', 'billing:charges:approve', 'lab_results:export', '*', 'notes:*'])(
    'accepts %s',
    (value) => expect(isPermission(value)).toBe(true),
  );

  it.each(['patients', 'Patients:read', 'patients:', ':read', 'patients read', '*:read', 'notes:**', '', 'notes:edit:'])(
    'rejects %j',
    (value) => expect(isPermission(value)).toBe(false),
  );
});
