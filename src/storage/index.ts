export { openStorage, isUniqueViolation, type Storage, type Repos } from './storage.ts';
export * from './entities/index.ts';
export { searchUsers, type UserSearch } from './user-search.ts';
export * as queries from './queries/index.ts';
export type { AuditEventFilter, AuditEventRange, AuditScope } from './queries/audit-events.ts';
// Query operators, re-exported so that other capabilities need not import TypeORM.
export { IsNull, In, LessThan, Not } from 'typeorm';
export type { ChainedAuditRow } from './queries/audit-chain.ts';
export type { DirectoryLink } from './queries/directory-sync.ts';
export { insertMany } from './insert-many.ts';
export { embeddedTemplateDir, holdsDatabase, setModes } from './embedded-template.ts';
