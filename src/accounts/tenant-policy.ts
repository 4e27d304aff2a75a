// A tenant's security policy: second factors, lockout, passwords, sessions and account lifetime.
// The database keeps only what a tenant changed; every read fills in the defaults below, so a new
// setting needs no migration and an old tenant gets the new default.
import { z } from 'zod';
import { keySchema } from './schemas.ts';

const seconds = (min: number, max: number) => z.number().int().min(min).max(max);
const days = z.number().int().min(1).max(3650);

const sessionLimits = z.strictObject({
  idleSeconds: seconds(60, 2_592_000).optional(),
  absoluteSeconds: seconds(300, 2_592_000).optional(),
});

export const tenantPolicySchema = z.strictObject({
  /** The IANA time zone the console shows times in (and, later, time windows are read in). */
  timeZone: z.string().max(64).refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone such as Europe/London or America/Chicago').default('UTC'),
  mfa: z
    .strictObject({
      /** off: no second factor; optional: users may enrol; required: everyone; roles: holders of the listed (or PHI) roles. */
      mode: z.enum(['off', 'optional', 'required', 'roles']).default('optional'),
      roles: z.array(keySchema).max(100).default([]),
      /** With mode "roles": also every role that requires PHI access. */
      phiRoles: z.boolean().default(true),
      methods: z.array(z.enum(['totp', 'webauthn', 'email', 'sms'])).min(1).default(['totp', 'webauthn', 'email', 'sms']),
      /** Signing in to the admin console always takes a second factor (enrolled then, if the person has none). */
      console: z.boolean().default(false),
    })
    .prefault({}),
  lockout: z
    .strictObject({
      threshold: z.number().int().min(1).max(100).default(5),
      lockSeconds: seconds(1, 86_400).default(300),
      maxLockSeconds: seconds(1, 2_592_000).default(86_400),
      /** timed: unlocks by itself (each repeat doubles the period); admin: until an admin unlocks. */
      mode: z.enum(['timed', 'admin']).default('timed'),
    })
    .prefault({}),
  addressThrottle: z
    .strictObject({
      maxFailures: z.number().int().min(5).max(100_000).default(50),
      windowSeconds: seconds(10, 86_400).default(300),
    })
    .prefault({}),
  password: z
    .strictObject({
      minLength: z.number().int().min(8).max(256).default(12),
      maxLength: z.number().int().min(64).max(1024).default(128),
      requireClasses: z.array(z.enum(['lower', 'upper', 'digit', 'symbol'])).max(4).default([]),
      rejectCommon: z.boolean().default(true),
      historyCount: z.number().int().min(0).max(24).default(5),
      expiryDays: days.nullable().default(null),
    })
    .refine((p) => p.minLength <= p.maxLength, 'minLength must not exceed maxLength')
    .prefault({}),
  sessions: z
    .strictObject({
      idleSeconds: seconds(60, 2_592_000).default(1800),
      absoluteSeconds: seconds(300, 2_592_000).default(43_200),
      maxConcurrent: z.number().int().min(1).max(100).nullable().default(null),
      /** At the limit: refuse the new sign-in, or end the oldest session. */
      onLimit: z.enum(['deny', 'end_oldest']).default('end_oldest'),
      /** Per-role overrides; the shortest limit among a user's roles wins. */
      roles: z.record(keySchema, sessionLimits).default({}),
    })
    .prefault({}),
  accounts: z
    .strictObject({
      /** Accounts unused for this many days become `expired` (null: never). */
      inactivityDays: days.nullable().default(null),
      resetLinkMinutes: z.number().int().min(5).max(1440).default(30),
      inviteDays: z.number().int().min(1).max(30).default(7),
    })
    .prefault({}),
  apiKeys: z
    .strictObject({
      /** The longest an API key may live; every key has an end no later than this after its creation. */
      maxLifetimeDays: days.default(90),
      /** Requests per minute a key may make when its creator names no limit. */
      defaultRateLimitPerMinute: z.number().int().min(1).max(100_000).default(600),
    })
    .prefault({}),
  network: z
    .strictObject({
      /** Tell holders of PHI roles (email, audit) when they sign in from a new device or address range. */
      alertNewPlaces: z.boolean().default(true),
      /** A device this person has not signed in from before must pass the second factor, whatever else applies. */
      newDeviceRequiresMfa: z.boolean().default(false),
    })
    .prefault({}),
});

export type TenantPolicy = z.output<typeof tenantPolicySchema>;
export type TenantPolicyInput = z.input<typeof tenantPolicySchema>;

/** The effective policy: stored overrides over the defaults. */
export function resolvePolicy(stored: Record<string, unknown> | null | undefined): TenantPolicy {
  const parsed = tenantPolicySchema.safeParse(stored ?? {});
  // A stored policy was validated when it was written; if a later release narrowed a bound, fall
  // back to the defaults for the whole policy rather than refuse every sign-in.
  return parsed.success ? parsed.data : tenantPolicySchema.parse({});
}

/** Merges a partial change into stored overrides (objects merge, arrays and values replace). */
export function mergePolicy(stored: Record<string, any>, patch: Record<string, any>): Record<string, any> {
  const out: Record<string, any> = { ...stored };
  for (const [key, value] of Object.entries(patch)) {
    const isObject = value && typeof value === 'object' && !Array.isArray(value);
    out[key] = isObject && key !== 'roles' ? mergePolicy(stored[key] ?? {}, value) : value;
  }
  return out;
}

/** Session limits for a user holding `roles`: the shortest applicable wins. */
export function sessionLimitsFor(policy: TenantPolicy, roles: string[]): { idleSeconds: number; absoluteSeconds: number } {
  let { idleSeconds, absoluteSeconds } = policy.sessions;
  for (const role of roles) {
    const o = policy.sessions.roles[role];
    if (o?.idleSeconds) idleSeconds = Math.min(idleSeconds, o.idleSeconds);
    if (o?.absoluteSeconds) absoluteSeconds = Math.min(absoluteSeconds, o.absoluteSeconds);
  }
  return { idleSeconds, absoluteSeconds };
}
