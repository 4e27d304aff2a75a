// Role templates every tenant starts with, taken from the products Caregate serves (clinic
// practice management, analytics, research studies). Tenants may edit or extend them.
import type { RoleInput } from './schemas.ts';

export const builtinRoles: RoleInput[] = [
  { key: 'admin', name: 'Owner / Admin', permissions: ['*'], description: 'Everything, in every application.' },
  { key: 'manager', name: 'Manager', permissions: ['patients:read', 'schedule:*', 'reports:read', 'inventory:read', 'staff:read'], requiresPhi: true },
  { key: 'provider', name: 'Provider', permissions: ['patients:read', 'patients:edit', 'notes:read', 'notes:create', 'notes:edit:own', 'orders:create', 'schedule:read'], requiresPhi: true },
  { key: 'front_desk', name: 'Front Desk', permissions: ['patients:read', 'patients:create', 'schedule:*', 'billing:payments:create'], requiresPhi: true },
  { key: 'billing', name: 'Billing', permissions: ['patients:read', 'billing:*', 'reports:read'], requiresPhi: true },
  { key: 'inventory', name: 'Inventory', permissions: ['inventory:*'] },
  { key: 'call_center', name: 'Call Center', permissions: ['patients:read', 'schedule:read', 'schedule:create'], requiresPhi: true },
  { key: 'analytics_admin', name: 'Analytics Admin', permissions: ['dashboards:*', 'reports:*', 'datasets:*'] },
  { key: 'billing_user', name: 'Billing User', permissions: ['reports:read', 'billing:read'] },
  { key: 'reporting_user', name: 'Reporting User', permissions: ['dashboards:read', 'reports:read'] },
  { key: 'customizer', name: 'Customizer', permissions: ['studies:read', 'studies:edit', 'forms:*'] },
  { key: 'report_viewer', name: 'Report Viewer', permissions: ['reports:read'] },
  { key: 'raw_data_downloader', name: 'Raw Data Downloader', permissions: ['participants:read', 'participants:export'], requiresPhi: true },
  { key: 'engagement_queue_viewer', name: 'Engagement Queue Viewer', permissions: ['engagement:read'], requiresPhi: true },
];

/**
 * The admin API's own permission catalogue. Its features carry the `caregate.` prefix so that an
 * application's permission of the same name ("users:edit" in an EHR) never grants admin rights.
 */
export const adminCatalogue = [
  'caregate.tenant:read',
  'caregate.tenant:edit',
  'caregate.policy:read',
  'caregate.policy:edit',
  ...['users', 'roles', 'assignments', 'locations', 'institutions', 'teams', 'applications', 'connections', 'directory', 'service_accounts'].flatMap((f) =>
    ['read', 'create', 'edit', 'delete'].map((a) => `caregate.${f}:${a}`),
  ),
  'caregate.directory:sync',
  'caregate.audit:read',
  'caregate.audit:export',
  // Access reviews: certify or revoke the access of the users one may manage; run campaigns.
  'caregate.reviews:decide',
  'caregate.reviews:manage',
  // Emergency access and elevation: decide others' requests; review uses of break-glass.
  'caregate.access:approve',
  'caregate.access:review',
];
