// What each command needs when it runs with `--as <user>`: the admin API permission of the route
// that does the same thing, held tenant-wide — or, for a `scoped` command whose service bounds the
// target by the user's reach (as the admin API's scoped routes do), held somewhere. Commands the
// admin API has no route for (tenants, keys, sweeps across tenants) run only as the operator.
import type { Command } from 'commander';
import { changesEmergencySettings } from './emergency-commands.ts';

export interface Requirement {
  permission: string | ((options: Record<string, any>) => string);
  scoped?: boolean;
  /** Where the tenant is named, when it is not --tenant: the command's first argument. */
  tenantArgument?: boolean;
}

/** Runs only as the operator at the server's terminal; `--as` is refused. */
export const OPERATOR_ONLY = 'operator-only';

const users = (action: string): Requirement => ({ permission: `caregate.users:${action}`, scoped: true });

export const commandPermissions: Record<string, Requirement | typeof OPERATOR_ONLY> = {
  'tenant create': OPERATOR_ONLY,
  'tenant list': OPERATOR_ONLY,
  'tenant profile-schema': { permission: (o) => (o.file ? 'caregate.tenant:edit' : 'caregate.tenant:read'), tenantArgument: true },
  'tenant policy': { permission: (o) => (o.set?.length ? 'caregate.policy:edit' : 'caregate.policy:read'), tenantArgument: true },
  'user create': users('create'),
  'user disable': users('edit'),
  'user enable': users('edit'),
  'user delete': users('delete'),
  'user security': users('read'),
  'user unlock': users('edit'),
  'user reset-mfa': users('edit'),
  'user reset-password': users('edit'),
  'user invite': users('edit'),
  'user end-sessions': users('edit'),
  'user expire-inactive': OPERATOR_ONLY,
  'user list': users('read'),
  'user assign': { permission: 'caregate.assignments:create', scoped: true },
  'user show': users('read'),
  'user update': users('edit'),
  'user set-password': users('edit'),
  'user unassign': { permission: 'caregate.assignments:delete', scoped: true },
  'user bulk': users('edit'),
  'user permissions': users('read'),
  'user override list': { permission: 'caregate.assignments:read', scoped: true },
  'user override grant': { permission: 'caregate.assignments:create', scoped: true },
  'user override deny': { permission: 'caregate.assignments:create', scoped: true },
  'user override remove': { permission: 'caregate.assignments:delete', scoped: true },
  'owner show': { permission: 'caregate.tenant:read' },
  'owner transfer': { permission: 'caregate.tenant:edit' },
  'owner backups': { permission: 'caregate.tenant:edit' },
  'owner claim': { permission: 'caregate.tenant:edit' },
  'location create': { permission: 'caregate.locations:create', scoped: true },
  'location list': { permission: 'caregate.locations:read', scoped: true },
  'institution create': { permission: 'caregate.institutions:create' },
  'institution list': { permission: 'caregate.institutions:read', scoped: true },
  'team create': { permission: 'caregate.teams:create' },
  'team list': { permission: 'caregate.teams:read' },
  'team add': { permission: 'caregate.teams:edit' },
  'team rename': { permission: 'caregate.teams:edit' },
  'team members': { permission: 'caregate.teams:read' },
  'team roles': { permission: 'caregate.assignments:read' },
  'team assign': { permission: 'caregate.assignments:create' },
  'team unassign': { permission: 'caregate.assignments:delete' },
  'role create': { permission: 'caregate.roles:create' },
  'role list': { permission: 'caregate.roles:read' },
  'role show': { permission: 'caregate.roles:read' },
  'role update': { permission: 'caregate.roles:edit' },
  'role delete': { permission: 'caregate.roles:delete' },
  'role derived list': { permission: 'caregate.roles:read' },
  'role derived add': { permission: 'caregate.roles:edit' },
  'role derived remove': { permission: 'caregate.roles:edit' },
  'app create': { permission: 'caregate.applications:create' },
  'app saml': { permission: 'caregate.applications:edit', scoped: true },
  'app list': { permission: 'caregate.applications:read', scoped: true },
  'app show': { permission: 'caregate.applications:read', scoped: true },
  'app update': { permission: 'caregate.applications:edit', scoped: true },
  'app rotate-secret': { permission: 'caregate.applications:edit', scoped: true },
  'app delete': { permission: 'caregate.applications:delete' },
  'connection create': { permission: 'caregate.connections:create' },
  'connection update': { permission: 'caregate.connections:edit' },
  'connection list': { permission: 'caregate.connections:read' },
  'connection show': { permission: 'caregate.connections:read' },
  'connection delete': { permission: 'caregate.connections:delete' },
  'connection test': { permission: 'caregate.connections:read' },
  'directory source create': { permission: 'caregate.directory:create' },
  'directory source update': { permission: 'caregate.directory:edit' },
  'directory source list': { permission: 'caregate.directory:read' },
  'directory source show': { permission: 'caregate.directory:read' },
  'directory source delete': { permission: 'caregate.directory:delete' },
  'directory test': { permission: 'caregate.directory:read' },
  'directory sync': { permission: 'caregate.directory:sync' },
  'directory runs': { permission: 'caregate.directory:read' },
  'service-account create': { permission: 'caregate.service_accounts:create' },
  'service-account list': { permission: 'caregate.service_accounts:read' },
  'service-account delete': { permission: 'caregate.service_accounts:delete' },
  'api-key issue': { permission: 'caregate.service_accounts:edit' },
  'api-key list': { permission: 'caregate.service_accounts:read' },
  'api-key rotate': { permission: 'caregate.service_accounts:edit' },
  'api-key revoke': { permission: 'caregate.service_accounts:edit' },
  'delegation list': { permission: 'caregate.assignments:read', scoped: true },
  'delegation create': { permission: 'caregate.assignments:create', scoped: true },
  'delegation end': { permission: 'caregate.assignments:delete', scoped: true },
  'access-review start': { permission: 'caregate.reviews:manage', scoped: true },
  'access-review list': { permission: 'caregate.reviews:decide', scoped: true },
  'access-review items': { permission: 'caregate.reviews:decide', scoped: true },
  'access-review decide': { permission: 'caregate.reviews:decide', scoped: true },
  'access-review close': { permission: 'caregate.reviews:manage', scoped: true },
  'access-review report': { permission: 'caregate.reviews:manage', scoped: true },
  'emergency settings': { permission: (o) => (changesEmergencySettings(o) ? 'caregate.policy:edit' : 'caregate.policy:read') },
  'emergency rule add': { permission: 'caregate.policy:edit' },
  'emergency rule list': { permission: 'caregate.policy:read' },
  'emergency rule remove': { permission: 'caregate.policy:edit' },
  'emergency uses': { permission: 'caregate.access:review' },
  'emergency review': { permission: 'caregate.access:review' },
  'access-request list': { permission: 'caregate.access:approve', scoped: true },
  'access-request approve': { permission: 'caregate.access:approve', scoped: true },
  'access-request reject': { permission: 'caregate.access:approve', scoped: true },
  'network-rule show': { permission: 'caregate.policy:read' },
  'network-rule set-tenant': { permission: 'caregate.policy:edit' },
  'network-rule clear-tenant': { permission: 'caregate.policy:edit' },
  'network-rule set-role': { permission: 'caregate.roles:edit' },
  'network-rule clear-role': { permission: 'caregate.roles:edit' },
  'keys rotate': OPERATOR_ONLY,
  'audit verify': { permission: 'caregate.audit:read' },
  'audit list': { permission: 'caregate.audit:read' },
  'audit export': { permission: 'caregate.audit:export' },
};

/** `user create` for the command `caregate user create`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A command missing from the table runs only as the operator: a new command is never open to `--as` by omission. */
export function requirementOf(command: Command): Requirement | typeof OPERATOR_ONLY {
  return commandPermissions[commandPath(command)] ?? OPERATOR_ONLY;
}
