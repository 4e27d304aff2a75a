import { EntitySchema } from 'typeorm';

/** An LDAP or Active Directory a tenant syncs staff from and lets them sign in against. */
export interface DirectorySource {
  id: string;
  tenantId: string;
  /** Stable name within the tenant: in its users' source (`ldap:<key>`). */
  key: string;
  name: string;
  preset: string;
  /** Validated by src/directory/source-settings.ts on every write. */
  settings: Record<string, unknown>;
  secretsSealed: string | null;
  mappings: unknown[];
  enabled: boolean;
  watermark: { attribute: string; value: string; server: string } | null;
  lastFullSyncAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type DirectoryRunStatus = 'running' | 'succeeded' | 'failed' | 'refused';

/** One sync of a source: its progress while running, then its result. */
export interface DirectoryRun {
  id: string;
  tenantId: string;
  sourceId: string;
  mode: 'full' | 'incremental';
  trigger: 'cli' | 'schedule' | 'api';
  dryRun: boolean;
  status: DirectoryRunStatus;
  startedAt: Date;
  heartbeatAt: Date;
  finishedAt: Date | null;
  progress: Record<string, unknown>;
  summary: Record<string, unknown> | null;
  error: string | null;
}

export const DirectorySourceEntity = new EntitySchema<DirectorySource>({
  name: 'DirectorySource',
  tableName: 'directory_sources',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    key: { type: 'text' },
    name: { type: 'text' },
    preset: { type: 'text' },
    settings: { type: 'jsonb' },
    secretsSealed: { name: 'secrets_sealed', type: 'text', nullable: true },
    mappings: { type: 'jsonb' },
    enabled: { type: 'boolean' },
    watermark: { type: 'jsonb', nullable: true },
    lastFullSyncAt: { name: 'last_full_sync_at', type: 'timestamptz', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    updatedAt: { name: 'updated_at', type: 'timestamptz', updateDate: true },
  },
});

export const DirectoryRunEntity = new EntitySchema<DirectoryRun>({
  name: 'DirectoryRun',
  tableName: 'directory_runs',
  columns: {
    id: { type: 'uuid', primary: true },
    tenantId: { name: 'tenant_id', type: 'uuid' },
    sourceId: { name: 'source_id', type: 'uuid' },
    mode: { type: 'text' },
    trigger: { type: 'text' },
    dryRun: { name: 'dry_run', type: 'boolean' },
    status: { type: 'text' },
    startedAt: { name: 'started_at', type: 'timestamptz' },
    heartbeatAt: { name: 'heartbeat_at', type: 'timestamptz' },
    finishedAt: { name: 'finished_at', type: 'timestamptz', nullable: true },
    progress: { type: 'jsonb' },
    summary: { type: 'jsonb', nullable: true },
    error: { type: 'text', nullable: true },
  },
});
