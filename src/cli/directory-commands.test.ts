import type { SyncSummary } from '../directory/index.ts';
import { describeSummary } from './directory-commands.ts';

const summary = (over: Partial<SyncSummary> = {}): SyncSummary => ({
  runId: '6f1c1e1a-0000-4000-8000-000000000000', tenant: 'acme', source: 'clinic', mode: 'full', dryRun: false, status: 'succeeded',
  created: 1, updated: 2, disabled: 3, reenabled: 4, unchanged: 5, errors: 0, entries: 12, groups: 2, durationMs: 1234, errorList: [], ...over,
});

describe('directory sync summary', () => {
  it('says what a run did, with every count and the duration', () => {
    expect(describeSummary(summary())).toBe('Synced acme/clinic (full) in 1.2 s\ncreated 1, updated 2, disabled 3, re-enabled 4, unchanged 5, errors 0 (12 entries, 2 groups)');
    expect(describeSummary(summary({ escalated: 'no watermark yet' })).split('\n')[0]).toBe('Synced acme/clinic (full: no watermark yet) in 1.2 s');
  });

  it('lists what a dry run would change, one line per person, or that nothing would', () => {
    const diff: SyncSummary['diff'] = [
      { change: 'create', subject: 's1', username: 'nina.patel', events: [{ action: 'user.create', after: { username: 'nina.patel' } }, { action: 'assignment.create', after: { role: 'inventory' } }] },
      { change: 'disable', subject: 's2', username: 'grace.kim', reason: 'gone', events: [{ action: 'user.disable' }] },
      { change: 'update', subject: 's3', username: 'omar.haddad', events: [{ action: 'assignment.delete', before: { role: 'inventory' } }, { action: 'team.member.add', after: { team: 'night' } }] },
    ];
    expect(describeSummary(summary({ dryRun: true, diff })).split('\n').slice(2)).toEqual([
      'Would change:',
      '  + create   nina.patel: +role inventory',
      '  - disable  grace.kim (gone)',
      '  ~ update   omar.haddad: -role inventory, +team night',
    ]);
    expect(describeSummary(summary({ dryRun: true, diff: [] })).split('\n')).toEqual([expect.stringMatching(/^Dry run of acme\/clinic/), expect.any(String), 'Nothing would change.']);
  });

  it('gives the reason of a refused or failed run, and the entries that failed', () => {
    expect(describeSummary(summary({ status: 'refused', reason: 'threshold', message: 'this run would disable 2 …' })).split('\n')[0]).toBe('Sync of acme/clinic refused: this run would disable 2 …');
    const errors = describeSummary(summary({ errors: 1, errorList: [{ dn: 'uid=x,ou=people,dc=clinic,dc=example', reason: 'conflict', detail: 'another account holds this username or email' }] }));
    expect(errors.split('\n').at(-1)).toBe('  ! uid=x,ou=people,dc=clinic,dc=example: conflict — another account holds this username or email');
  });
});
