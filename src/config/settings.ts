// Every setting Caregate reads, declared once: environment variable, schema, default, description.
// The configuration table in docs/configuration.md is checked against this list by test/unit/readme.test.ts.
import { z } from 'zod';

export interface SettingDefinition<T = unknown> {
  env: string;
  schema: z.ZodType<T>;
  default?: T;
  description: string;
  secret?: boolean;
}

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with scheme ${protocols.join(' or ')}`);

export const settings = {
  baseUrl: {
    env: 'CAREGATE_BASE_URL',
    schema: url(['http:', 'https:']).transform((v) => v.replace(/\/+$/, '')),
    default: 'http://localhost:3000',
    description: 'Public URL of this deployment; tenant issuers are `{base}/t/{tenant}`.',
  },
  port: { env: 'PORT', schema: int(0, 65535), default: 3000, description: 'HTTP port to listen on.' },
  host: { env: 'CAREGATE_HOST', schema: z.string().min(1), default: '0.0.0.0', description: 'Address to bind.' },
  trustProxy: {
    env: 'CAREGATE_TRUST_PROXY',
    schema: bool,
    default: false,
    description: 'Trust `X-Forwarded-*` headers (set when behind a TLS-terminating load balancer). Required with an `https://` base URL.',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    schema: url(['postgres:', 'postgresql:']).optional(),
    description: 'PostgreSQL (≥ 14) connection URL. Unset: embedded PGlite in the data directory.',
    secret: true,
  },
  redisUrl: {
    env: 'REDIS_URL',
    schema: url(['redis:', 'rediss:']).optional(),
    description: 'Redis (≥ 6) URL for sessions, codes and counters. Unset: in-process memory (one node only).',
    secret: true,
  },
  dataDir: {
    env: 'CAREGATE_DATA_DIR',
    schema: z.string().min(1),
    default: './data',
    description: 'Directory for the embedded database and the generated master key.',
  },
  wasmTierUp: {
    env: 'CAREGATE_WASM_TIER_UP',
    schema: bool,
    default: false,
    description:
      "Embedded store: let V8 also optimise PGlite's WebAssembly. Off: the server runs it with V8's baseline compiler alone, a third of the start-up peak memory at the same speed.",
  },
  masterKey: {
    env: 'CAREGATE_MASTER_KEY',
    schema: z
      .string()
      .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64-encoded (generate one with: openssl rand -base64 32)')
      .optional(),
    description:
      'Key that encrypts signing keys and client secrets at rest (32 bytes, base64). Required with `DATABASE_URL`; the embedded default generates `{dataDir}/master.key`.',
    secret: true,
  },
  migrateOnStart: {
    env: 'CAREGATE_MIGRATE_ON_START',
    schema: bool,
    default: true,
    description: 'Apply pending database migrations when `serve` starts (else run `caregate migrate`).',
  },
  bootstrapTenant: {
    env: 'CAREGATE_BOOTSTRAP_TENANT',
    schema: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lowercase slug'),
    default: 'demo',
    description: 'Tenant created on first start, with an `admin` user. Empty database only.',
  },
  bootstrapPassword: {
    env: 'CAREGATE_BOOTSTRAP_PASSWORD',
    schema: z.string().min(12, 'must be at least 12 characters').optional(),
    description: 'Password of the bootstrap `admin` user. Unset: generated and printed once.',
    secret: true,
  },
  signingAlg: {
    env: 'CAREGATE_SIGNING_ALG',
    schema: z.enum(['ES256', 'RS256']),
    default: 'ES256',
    description: 'Default JWS algorithm for ID and access tokens (clients may ask for the other).',
  },
  accessTokenTtl: {
    env: 'CAREGATE_ACCESS_TOKEN_TTL',
    schema: int(60, 86400),
    default: 900,
    description: 'Access token lifetime, seconds.',
  },
  idTokenTtl: { env: 'CAREGATE_ID_TOKEN_TTL', schema: int(60, 86400), default: 900, description: 'ID token lifetime, seconds.' },
  refreshTokenTtl: {
    env: 'CAREGATE_REFRESH_TOKEN_TTL',
    schema: int(300, 31536000),
    default: 1209600,
    description: 'Refresh token lifetime, seconds (each use rotates it).',
  },
  keyCheckInterval: {
    env: 'CAREGATE_KEY_CHECK_INTERVAL',
    schema: int(1, 3600),
    default: 30,
    description: 'Seconds between checks for signing keys rotated elsewhere (CLI, another node); every node serves a rotation within this time.',
  },
  directorySyncTickSeconds: {
    env: 'CAREGATE_DIRECTORY_SYNC_TICK',
    schema: int(5, 3600),
    default: 60,
    description: "Seconds between checks for directory sources due to sync (each source's own interval decides when it runs; 0 there turns its schedule off).",
  },
  idleCollectMb: {
    env: 'CAREGATE_IDLE_COLLECT_MB',
    schema: int(0, 65536),
    default: 32,
    description: 'Once the server has been quiet for 5 s and its resident memory grew by this many MB since the last time, it asks V8 for one full collection that hands the freed memory back to the system (one pause of up to a fifth of a second, while almost nothing is served). 0: never.',
  },
  argon2MemoryKib: {
    env: 'CAREGATE_ARGON2_MEMORY_KIB',
    schema: int(19456, 1048576),
    default: 19456,
    description: 'argon2id memory cost in KiB (OWASP minimum 19456).',
  },
  argon2TimeCost: {
    env: 'CAREGATE_ARGON2_TIME_COST',
    schema: int(2, 20),
    default: 2,
    description: 'argon2id iterations (OWASP minimum 2).',
  },
  smtpUrl: {
    env: 'CAREGATE_SMTP_URL',
    schema: url(['smtp:', 'smtps:']).optional(),
    description: 'SMTP server for sign-in codes, reset links and invitations (`smtps://user:pass@host:465`, or `smtp://` with STARTTLS). Unset: messages go to the log and the development outbox.',
    secret: true,
  },
  mailFrom: {
    env: 'CAREGATE_MAIL_FROM',
    schema: z.string().min(3).max(320),
    default: 'Caregate <no-reply@localhost>',
    description: 'Sender address of Caregate\'s emails.',
  },
  smsWebhookUrl: {
    env: 'CAREGATE_SMS_WEBHOOK_URL',
    schema: url(['https:', 'http:']).optional(),
    description: 'Your SMS gateway: Caregate POSTs `{"to","text","tenant"}` as JSON, signed in `X-Caregate-Signature`. Unset: SMS go to the log and the development outbox.',
  },
  smsWebhookSecret: {
    env: 'CAREGATE_SMS_WEBHOOK_SECRET',
    schema: z.string().min(16).optional(),
    description: 'HMAC-SHA256 key for the SMS webhook signature (`sha256=<hex>` of the body).',
    secret: true,
  },
  logLevel: {
    env: 'CAREGATE_LOG_LEVEL',
    schema: z.enum(['debug', 'info', 'warn', 'error', 'silent']),
    default: 'info',
    description: 'Log verbosity; logs are JSON lines on stderr, one per request at `info`.',
  },
  metricsPort: {
    env: 'CAREGATE_METRICS_PORT',
    schema: z.union([z.literal('off'), int(0, 65535)]),
    default: 9464,
    description: 'Port of the Prometheus `/metrics` listener, apart from the public port (which never serves metrics); `off`: none.',
  },
  metricsHost: {
    env: 'CAREGATE_METRICS_HOST',
    schema: z.string().min(1),
    default: '127.0.0.1',
    description: 'Address the metrics listener binds: this machine only by default; `0.0.0.0` (with `CAREGATE_METRICS_TOKEN`) for a scraper elsewhere.',
  },
  metricsToken: {
    env: 'CAREGATE_METRICS_TOKEN',
    schema: z.string().min(16, 'must be at least 16 characters').optional(),
    description: 'When set, `/metrics` answers only requests with `Authorization: Bearer <token>`.',
    secret: true,
  },
  tracing: {
    env: 'CAREGATE_TRACING',
    schema: bool,
    default: false,
    description: 'Export OpenTelemetry traces over OTLP/HTTP (where to: the standard `OTEL_EXPORTER_OTLP_*` variables). Off: no tracing code is loaded.',
  },
  otlpEndpoint: {
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    schema: url(['http:', 'https:']).optional(),
    description: 'OpenTelemetry collector for traces (OTLP/HTTP, e.g. `http://otel-collector:4318`); setting it turns tracing on.',
  },
} satisfies Record<string, SettingDefinition<any>>;

type Settings = typeof settings;
export type Config = {
  [K in keyof Settings]: Settings[K] extends { default: unknown }
    ? z.output<Settings[K]['schema']>
    : z.output<Settings[K]['schema']> | undefined;
};
