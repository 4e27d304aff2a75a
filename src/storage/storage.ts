// The durable store as the rest of Caregate sees it: typed repositories, transactions, health.
// SQL — raw or through a query builder — stays in storage/queries: the types handed out have none.
import type { DataSource, EntityManager, ObjectLiteral, QueryRunner, Repository } from 'typeorm';
import { QueryFailedError } from 'typeorm';
import * as E from './entities/index.ts';
import { createDataSource, createMigrationDataSource, type DataSourceOptions } from './data-source.ts';
import type { DirectQuery } from './embedded-driver.ts';
import { textOf, type Statement } from './statement.ts';
import { hasPendingMigrations, runMigrations } from './migrations/run-migrations.ts';
import { explainConnectError } from './explain-connect-error.ts';

function repositories(m: EntityManager) {
  return {
    tenants: m.getRepository<E.Tenant>(E.TenantEntity),
    users: m.getRepository<E.User>(E.UserEntity),
    locations: m.getRepository<E.Location>(E.LocationEntity),
    institutions: m.getRepository<E.Institution>(E.InstitutionEntity),
    teams: m.getRepository<E.Team>(E.TeamEntity),
    teamMembers: m.getRepository<E.TeamMember>(E.TeamMemberEntity),
    roles: m.getRepository<E.Role>(E.RoleEntity),
    assignments: m.getRepository<E.Assignment>(E.AssignmentEntity),
    applications: m.getRepository<E.Application>(E.ApplicationEntity),
    signingKeys: m.getRepository<E.SigningKey>(E.SigningKeyEntity),
    oidcPayloads: m.getRepository<E.OidcPayload>(E.OidcPayloadEntity),
    auditEvents: m.getRepository<E.AuditEvent>(E.AuditEventEntity),
    mfaFactors: m.getRepository<E.MfaFactor>(E.MfaFactorEntity),
    recoveryCodes: m.getRepository<E.RecoveryCode>(E.RecoveryCodeEntity),
    actionTokens: m.getRepository<E.ActionToken>(E.ActionTokenEntity),
    passwordHistory: m.getRepository<E.PasswordHistory>(E.PasswordHistoryEntity),
    connections: m.getRepository<E.Connection>(E.ConnectionEntity),
    userIdentities: m.getRepository<E.UserIdentity>(E.UserIdentityEntity),
    directorySources: m.getRepository<E.DirectorySource>(E.DirectorySourceEntity),
    directoryRuns: m.getRepository<E.DirectoryRun>(E.DirectoryRunEntity),
    permissionOverrides: m.getRepository<E.PermissionOverride>(E.PermissionOverrideEntity),
    derivedRoles: m.getRepository<E.DerivedRole>(E.DerivedRoleEntity),
  };
}

type Repositories = ReturnType<typeof repositories>;

/** A table's repository without its ways to SQL (query, sql, query builders, the manager and metadata behind it). */
export type Table<T extends ObjectLiteral> = Omit<Repository<T>, 'query' | 'sql' | 'createQueryBuilder' | 'manager' | 'queryRunner' | 'metadata' | 'extend'>;

type Tables = { readonly [K in keyof Repositories]: Repositories[K] extends Repository<infer T> ? Table<T> : never };

/** The tables of the store, or of one transaction: entity reads and writes; SQL goes through storage/queries. */
export interface Repos extends Tables {
  /** Runs `fn` once the surrounding transaction has committed (at once, outside one). */
  afterCommit(fn: () => Promise<void>): Promise<void>;
  /** Inside a transaction only: runs `fn` as its last step, before it commits (a failure rolls it back). */
  beforeCommit?(fn: () => Promise<void>): void;
}

/** Storage-internal: what every Repos is underneath — full repositories and raw SQL. */
export type SqlRepos = Repositories & Omit<Repos, keyof Tables> & {
  /** Raw SQL within the same transaction (or the pool, outside one). */
  query<T = Record<string, unknown>>(sql: string | Statement, params?: unknown[]): Promise<T[]>;
};

/**
 * Storage-internal: a Repos as the query modules use it. Every Repos is made by `withQuery` below,
 * which is what this type says, so the cast only undoes the narrowing of the public type.
 */
export function sqlRepos(db: Repos): SqlRepos {
  return db as unknown as SqlRepos;
}

/** Storage-internal: a table's full repository (see `sqlRepos`). */
export function fullRepository<T extends ObjectLiteral>(table: Table<T>): Repository<T> {
  return table as Repository<T>;
}

export interface Storage extends Repos {
  readonly embedded: boolean;
  /** Runs `work` in one transaction; everything it writes commits together or not at all. */
  transaction<T>(work: (tx: Repos) => Promise<T>): Promise<T>;
  migrate(): Promise<string[]>;
  pendingMigrations(): Promise<boolean>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIGRATION_LOCK = 7261001; // arbitrary, constant across releases

/**
 * A transaction is one connection, and node-postgres takes one statement at a time on it: a second
 * sent while the first runs is deprecated now and refused from pg 9. Code inside a transaction may
 * still gather reads with Promise.all: its statements wait here and go in the order they were asked.
 */
function queueStatements(runner: QueryRunner): void {
  const send = runner.query.bind(runner);
  let previous: Promise<unknown> = Promise.resolve();
  runner.query = ((...args: Parameters<typeof send>) => {
    const next = previous.then(() => send(...args));
    previous = next.catch(() => undefined);
    return next;
  }) as QueryRunner['query'];
}

function withQuery(m: EntityManager, pending?: Array<() => Promise<void>>, direct?: DirectQuery, closing?: Array<() => Promise<void>>): SqlRepos {
  return {
    ...repositories(m),
    // Rows, whatever the statement: TypeORM's own query() answers UPDATE/DELETE … RETURNING with
    // [rows, count], which would make every `rows.length` check true.
    query: direct
      ? (sql, params) => direct(sql, params) as Promise<any[]>
      : async (sql, params) => (m.queryRunner ? (await m.queryRunner.query(textOf(sql), params, true)).records : m.query(textOf(sql), params)),
    afterCommit: async (fn) => {
      if (pending) pending.push(fn);
      else await fn();
    },
    ...(closing ? { beforeCommit: (fn: () => Promise<void>) => void closing.push(fn) } : {}),
  };
}

export async function openStorage(options: DataSourceOptions): Promise<Storage> {
  const { dataSource: ds, query } = createDataSource(options);
  await ds.initialize().catch((error: unknown) => {
    throw (options.databaseUrl && explainConnectError(error, options.databaseUrl)) || error;
  });
  return {
    // Outside transactions, plain SQL goes straight to the driver.
    ...withQuery(ds.manager, undefined, query),
    embedded: !options.databaseUrl,
    async transaction(work) {
      const committed: Array<() => Promise<void>> = [];
      const result = await ds.transaction(async (m) => {
        queueStatements(m.queryRunner!);
        const closing: Array<() => Promise<void>> = [];
        const value = await work(withQuery(m, committed, undefined, closing));
        while (closing.length) await closing.shift()!();
        return value;
      });
      for (const fn of committed) await fn();
      return result;
    },
    async migrate() {
      if (!options.databaseUrl) return runMigrations(ds);
      // Nodes starting together take turns: an advisory lock serialises their migrations.
      const mds = await createMigrationDataSource(options.databaseUrl).initialize();
      const lock = mds.createQueryRunner();
      try {
        await lock.connect();
        await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        return await runMigrations(mds);
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
        await lock.release();
        await mds.destroy();
      }
    },
    pendingMigrations: () => hasPendingMigrations(ds),
    async ping() {
      await ds.query('SELECT 1');
    },
    close: () => ds.destroy(),
  };
}

/** True when a write failed on a unique constraint (duplicate username, key, client id…), or on the named one. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
  return driverError?.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}
