// Opens everything a Caregate process needs, once, and hands it around as one context
// (CONVENTIONS point 4): stores, crypto, audit, account services, the per-tenant providers.
import { ensureDataDir, type Config } from './config/index.ts';
import { createBreakGlassApprovals, createEmergencyAccess, createElevations, type BreakGlassApprovals, type EmergencyAccess, type Elevations } from './accounts/index.ts';
import { createAccounts, createSessionLimits, createClaimsCache, createFactorService, createSessionIndex, createActionLinks, createAccountSecurity, type AccountSecurity, type SessionIndex, type ActionLinks, createPasswordService, type Accounts, type ClaimsCache, type FactorService, type PasswordService } from './accounts/index.ts';
import { createOneTimeCodes, createTotp, createWebAuthn, hashRecoveryCode, type OneTimeCodes, type Totp, type WebAuthn } from './mfa/index.ts';
import { createOutbox, createRouter, createSmsWebhookSender, createSmtpSender, type Outbox, type Sender } from './notify/index.ts';
import { createAuditWriter, type AuditWriter } from './audit/index.ts';
import { connectRedis, openEphemeralStore, type EphemeralStore } from './ephemeral/index.ts';
import { createViews, type Render } from './http/index.ts';
import { createLogger, type Logger } from './logger.ts';
import { adminResource, checkMasterKey, createProviderRegistry, type ProviderRegistry } from './oidc/index.ts';
import { createLockout, createPasswordHasher, createSealedBox, loadMasterKey, type Lockout, type PasswordHasher, type SealedBox } from './security/index.ts';
import { openStorage, type Storage } from './storage/index.ts';
import { createFederation, type Federation } from './federation/index.ts';
import { createDirectorySync, type DirectorySync } from './directory/index.ts';
import { createMetrics, currentRequestId, logWithRequestId, observeProvider, observeSignIns, type Metrics } from './observability/index.ts';

export interface Runtime {
  config: Config;
  log: Logger;
  /** Prometheus metrics (served by `serve` on its own port). */
  metrics: Metrics;
  storage: Storage;
  ephemeral: EphemeralStore;
  box: SealedBox;
  hasher: PasswordHasher;
  audit: AuditWriter;
  accounts: Accounts;
  /** The claims cache: per-tenant entries token issuance reads (LDAP / AD sources are `ldap`). */
  claimsCache: ClaimsCache;
  providers: ProviderRegistry;
  render: Render;
  lockout: Lockout;
  totp: Totp;
  codes: OneTimeCodes;
  webauthn: WebAuthn;
  /** Email and SMS delivery; channels without a configured sender go to the outbox. */
  sender: Sender;
  outbox: Outbox;
  factors: FactorService;
  sessions: SessionIndex;
  links: ActionLinks;
  /** Admin actions on sign-in security (unlock, 2FA reset, reset links, invitations, sessions). */
  security: AccountSecurity;
  passwords: PasswordService;
  /** Federation connections and the upstream sign-in round trip. */
  federation: Federation;
  /** LDAP / Active Directory sources: sync runs and directory-password sign-in. */
  ldap: DirectorySync;
  /** Emergency access (break-glass): rules, uses, reviews; and just-in-time elevation requests. */
  emergency: EmergencyAccess;
  elevations: Elevations;
  /** Approvals of break-glass uses that a rule makes wait for one or two other people. */
  breakGlassApprovals: BreakGlassApprovals;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Apply pending migrations before returning (serve with migrateOnStart, migrate command). */
  migrate?: boolean;
  log?: Logger;
}

export async function openRuntime(config: Config, options: OpenOptions = {}): Promise<Runtime> {
  // A line written while a request is handled names its request id.
  const log = logWithRequestId(options.log ?? createLogger(config.logLevel));
  const metrics = createMetrics();
  // The embedded database and the generated master key live in the data directory.
  if (!config.databaseUrl || !config.masterKey) ensureDataDir(config.dataDir);
  const box = createSealedBox(loadMasterKey(config.masterKey, config.dataDir, (m) => log.warn(m)));
  let lastRedisError = 0;
  const onRedisError = (error: Error) => {
    // ioredis reports every reconnect attempt; one line every 10 s is enough.
    if (Date.now() - lastRedisError > 10_000) log.error('redis unavailable', { error: error.message });
    lastRedisError = Date.now();
  };
  // A process starts only with both stores: Redis answering with the URL's credentials and database,
  // checked first as it costs nothing beside opening the database. Once running, an outage fails
  // closed and the process recovers when Redis returns.
  const ephemeral = config.redisUrl ? await connectRedis(config.redisUrl, onRedisError) : openEphemeralStore(undefined);
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }).catch(async (error: Error) => {
    await ephemeral.close();
    throw error;
  });
  const fail = async (error: Error): Promise<never> => {
    await ephemeral.close();
    await storage.close();
    throw error;
  };
  if (options.migrate) {
    // Most starts, and every CLI command, find nothing to apply: looking costs a query, migrating a
    // second pool and a lock. A look that fails (two nodes creating the migrations table at once) migrates.
    if (await storage.pendingMigrations().catch(() => true)) {
      const ran = await storage.migrate();
      if (ran.length) log.info('applied migrations', { migrations: ran });
    }
  } else if (await storage.pendingMigrations()) {
    await fail(new Error('The database schema is out of date: run `caregate migrate` (or set CAREGATE_MIGRATE_ON_START=true).'));
  }
  await checkMasterKey(storage, box, config.masterKey ? 'CAREGATE_MASTER_KEY' : `${config.dataDir}/master.key`).catch(fail);
  const hasher = createPasswordHasher({ memoryKib: config.argon2MemoryKib, timeCost: config.argon2TimeCost, parallelism: 1 });
  const claimsCache = createClaimsCache(ephemeral);
  // A committed change empties the tenant's cache here and, through the version, on other nodes.
  // If that fails (Redis away), the change stands; other nodes catch up within the cache's max age.
  const audit = createAuditWriter(storage, (tenantId) =>
    claimsCache.invalidate(tenantId).catch((error: Error) => log.warn('cache invalidation failed', { tenantId, error: error.message })),
    { observe: observeSignIns(log, metrics), requestId: currentRequestId },
  );
  const lockout = createLockout(ephemeral, (mode) => metrics.lockout(mode));
  const sessions = createSessionIndex(ephemeral, createSessionLimits({ storage, claimsCache }));
  const accountsCtx = { storage, audit, hasher, box, lockout, sessions, ephemeral, adminResource: adminResource(config) };
  const accounts = createAccounts(accountsCtx);
  const render = createViews();
  const providers = createProviderRegistry({ config, storage, ephemeral, box, render, claimsCache, sessions, audit }, observeProvider(log, metrics));
  const outbox = createOutbox(log);
  const smtp = config.smtpUrl ? createSmtpSender({ url: config.smtpUrl, from: config.mailFrom }) : undefined;
  const sms = config.smsWebhookUrl ? createSmsWebhookSender({ url: config.smsWebhookUrl, secret: config.smsWebhookSecret }) : undefined;
  const factors = createFactorService(accountsCtx, box.derive('recovery-codes'), hashRecoveryCode);
  const passwords = createPasswordService(accountsCtx);
  const links = createActionLinks(accountsCtx, config.baseUrl);
  const sender = createRouter({ email: smtp, sms, fallback: outbox });
  const alerts = { ...accountsCtx, sender, baseUrl: config.baseUrl, onError: (error: Error, what: string) => log.warn(`${what} failed`, { error: error.message }) };
  return {
    config, log, metrics, storage, ephemeral, box, hasher, audit, accounts, claimsCache, providers, render,
    security: createAccountSecurity({ ...accountsCtx, users: accounts.users, factors, links, passwords, sender }),
    lockout,
    totp: createTotp({ ephemeral }),
    codes: createOneTimeCodes(ephemeral),
    webauthn: createWebAuthn(ephemeral),
    sender,
    outbox,
    factors,
    passwords,
    sessions,
    links,
    federation: createFederation({ storage, audit, box, claimsCache, ephemeral, baseUrl: config.baseUrl }),
    ldap: createDirectorySync({
      storage, audit, box, claimsCache, ephemeral, sessions,
      observer: { started: metrics.syncStarted, progress: metrics.syncProgress, finished: metrics.syncFinished },
    }),
    emergency: createEmergencyAccess(alerts),
    elevations: createElevations(alerts),
    breakGlassApprovals: createBreakGlassApprovals(alerts),
    async close() {
      smtp?.close();
      await ephemeral.close();
      await storage.close();
    },
  };
}
