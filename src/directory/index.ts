// LDAP and Active Directory: directory sources, sync runs (full and incremental, on a schedule or
// from the CLI), and bind sign-in for directory users.
export { createDirectorySync, ldapConnector, type DirectorySync, type DirectorySyncDeps, type DirectoryLogin, type SyncEnd, type SyncObserver, type SyncOptions } from './directory-sync.ts';
export { scheduleDirectorySync, syncDueSources } from './sync-scheduler.ts';
export { sourceRequest, sourceSettings, PRESETS, type SourceInput, type SourceSettings } from './source-settings.ts';
export { DirectoryError, type DirectoryReason } from './directory-error.ts';
export type { SyncSummary, SyncProgress, DiffLine } from './sync-engine.ts';
export type { PublicSource } from './source-service.ts';
