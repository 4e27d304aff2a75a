// Input shapes shared by the CLI and the admin API; the OpenAPI document is generated from them.
import { z } from 'zod';
import { MAX_XML_BYTES, samlSettingsSchema } from '../saml/index.ts';
import { WEEKDAYS } from '../authz/index.ts';

export const keySchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be lowercase letters, digits, "-" or "_" (max 64)');
export const slugSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a lowercase slug (max 63)');
const permissionSchema = z
  .string()
  .regex(/^(\*|[a-z][a-z0-9_.-]*:\*|[a-z][a-z0-9_.-]*(:[a-z][a-z0-9_.-]*)+)$/, 'must look like "feature:action"');

export const tenantInput = z.strictObject({ slug: slugSchema, name: z.string().min(1).max(200) });

const usernameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._@+-]+$/, 'may contain letters, digits and . _ @ + -');

export const userInput = z.strictObject({
  username: usernameSchema,
  email: z.email().max(254).optional(),
  phone: z
    .string()
    .regex(/^\+[1-9][0-9]{6,14}$/, 'must be in E.164 form, e.g. +15551234567')
    .optional(),
  displayName: z.string().min(1).max(200).optional(),
  password: z.string().min(12, 'must be at least 12 characters').max(128).optional(),
  invite: z.boolean().optional(),
  phiAccess: z.boolean().default(false),
  outsideVendor: z.boolean().default(false),
  expiresAt: z.coerce.date().optional(),
  givenName: z.string().min(1).max(100).optional(),
  familyName: z.string().min(1).max(100).optional(),
  userType: keySchema.optional().describe("One of the tenant's user types (GET /profile-schema)"),
  attributes: z.record(z.string(), z.unknown()).optional().describe("Values of the tenant's declared profile attributes"),
});

export const userPatch = z.strictObject({
  username: usernameSchema.optional(),
  email: z.email().max(254).nullable().optional(),
  phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/).nullable().optional(),
  displayName: z.string().min(1).max(200).nullable().optional(),
  givenName: z.string().min(1).max(100).nullable().optional(),
  familyName: z.string().min(1).max(100).nullable().optional(),
  userType: keySchema.nullable().optional(),
  attributes: z.record(z.string(), z.unknown().nullable()).optional().describe('Attribute values to set; null removes one'),
  phiAccess: z.boolean().optional(),
  outsideVendor: z.boolean().optional(),
  expiresAt: z.coerce.date().nullable().optional().describe('Account end date; null: none'),
  manager: z.string().min(1).max(128).nullable().optional().describe("The user's manager (id or username), who approves their elevation requests where the tenant's approval levels name the manager; null: none"),
});

/** Limits on one permission of a role; only names @caregate/client's can() enforces (it refuses unknown ones). */
const permissionConstraintsSchema = z.strictObject({
  maxAmount: z.number().finite().nonnegative().describe('The largest amount the action may carry (inclusive)'),
});
/** Permission ("feature:action", no wildcard) → its limits; `{}` on a child role lifts the parent's. */
const roleConstraintsSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9_.-]*(:[a-z][a-z0-9_.-]*)+$/, 'must be a permission such as "billing:charges:approve" (no wildcard)'), permissionConstraintsSchema.partial())
  .refine((c) => Object.keys(c).length <= 200, 'at most 200 constrained permissions')
  .describe('Limits on some of the role\'s permissions, e.g. {"billing:charges:approve": {"maxAmount": 500}}; tokens carry them in `constraints`');

export const roleInput = z.strictObject({
  key: keySchema,
  name: z.string().min(1).max(200),
  description: z.string().max(1000).optional(),
  parent: keySchema.optional(),
  permissions: z.array(permissionSchema).max(500).default([]),
  removedPermissions: z.array(permissionSchema).max(500).default([]),
  requiresPhi: z.boolean().default(false),
  constraints: roleConstraintsSchema.default({}),
});

/** A role edit: any field but the key; `parent: null` detaches it, `requiresPhi` applies to everything inheriting from it. */
export const rolePatch = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  description: z.string().max(1000).nullable().optional(),
  parent: keySchema.nullable().optional(),
  permissions: z.array(permissionSchema).max(500).optional(),
  removedPermissions: z.array(permissionSchema).max(500).optional(),
  requiresPhi: z.boolean().optional(),
  constraints: roleConstraintsSchema.optional(),
});

export const scopeInput = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('tenant') }),
  z.strictObject({ type: z.literal('location'), key: keySchema }),
  z.strictObject({ type: z.literal('institution'), key: keySchema }),
  z.strictObject({ type: z.literal('application'), clientId: z.string().min(1) }),
]);

const clockTime = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be a time of day "HH:MM" (24-hour; "24:00" for midnight at the end)');
/** One weekly range; an end before the start runs past midnight (Mon 22:00–06:00 ends Tuesday 06:00). */
export const timeRangeSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1).max(7).refine((d) => new Set(d).size === d.length, 'must not repeat a day'),
    start: clockTime.refine((t) => t !== '24:00', 'must be before 24:00'),
    end: clockTime,
  })
  .refine((r) => r.start !== r.end, { message: 'start and end must differ', path: ['end'] });
/** A weekly window in the tenant's time zone (policy `timeZone`); any open range opens it. */
export const timeWindowSchema = z
  .array(timeRangeSchema)
  .min(1)
  .max(28)
  .describe('Weekly ranges in the tenant\'s time zone, e.g. [{"days": ["mon","tue","wed","thu","fri"], "start": "09:00", "end": "17:00"}]');

export const assignmentInput = z.strictObject({
  role: keySchema,
  scope: scopeInput.default({ type: 'tenant' }),
  startsAt: z.coerce.date().optional(),
  expiresAt: z.coerce.date().optional(),
  timeWindow: timeWindowSchema.optional().describe('A weekly window outside which the assignment grants nothing (tokens issued inside it end when it closes)'),
});

export const locationInput = z.strictObject({ key: keySchema, name: z.string().min(1).max(200), parent: keySchema.optional() });
export const namedInput = z.strictObject({ key: keySchema, name: z.string().min(1).max(200) });
/** A location edit: a new name, a new parent (null: top level), or both; the key stays. */
export const locationPatch = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  parent: keySchema.nullable().optional().describe('The key of the new parent location; null moves it to the top level'),
});

const redirectUri = z.string().refine((v) => {
  try {
    const u = new URL(v);
    if (u.hash) return false;
    // Plain http only for loopback (RFC 8252 native apps, local development).
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) || /^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+:$/.test(u.protocol);
  } catch {
    return false;
  }
}, 'must be an absolute https URL (http only for localhost), without a fragment');

export const grantTypes = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

export const applicationInput = z.strictObject({
  name: z.string().min(1).max(200),
  redirectUris: z.array(redirectUri).max(50).default([]),
  postLogoutRedirectUris: z.array(redirectUri).max(50).default([]),
  public: z.boolean().default(false),
  requireConsent: z.boolean().default(false),
  grantTypes: z.array(z.enum(grantTypes)).min(1).optional(),
  permissions: z.array(permissionSchema).max(1000).default([]),
  resource: z.url().optional(),
  allowedResources: z.array(z.url()).max(50).default([]),
  adminApi: z.boolean().default(false),
  idTokenSignedResponseAlg: z.enum(['ES256', 'RS256']).optional(),
  // Same rule as redirect URIs (https, or http on loopback for development): the server calls it.
  backchannelLogoutUri: redirectUri.optional(),
  serviceRoles: z.array(keySchema).max(50).default([]),
  /** SAML service provider settings; with no redirect URIs the application is SAML-only. */
  saml: samlSettingsSchema.optional(),
});

type OptionalFields<S extends z.ZodRawShape> = { [K in keyof S]: z.ZodOptional<S[K] extends z.ZodDefault<infer Inner> ? Inner : S[K]> };

/** Every field optional and without its default: an override or an edit says only what it changes. */
function optionalFields<S extends z.ZodRawShape>(shape: S): OptionalFields<S> {
  return Object.fromEntries(Object.entries(shape).map(([name, field]) => [name, ((field instanceof z.ZodDefault ? field.unwrap() : field) as z.ZodType).optional()])) as unknown as OptionalFields<S>;
}

/**
 * SAML settings that override what SP metadata says: any subset of the fields, without defaults (the
 * metadata, then the schema's defaults, fill the rest). Checked field by field here and whole when
 * merged.
 */
export const samlOverrides = z.strictObject(optionalFields(samlSettingsSchema.shape));

/** SP metadata XML as an admin uploads it (parsed by src/saml/xml.ts, which enforces the same size). */
export const samlMetadataXml = z.string().min(1).max(MAX_XML_BYTES).describe("The service provider's SAML 2.0 metadata (an EntityDescriptor)");

/**
 * A SAML change as the CLI and the admin API send it: whole settings, or `metadata` with the
 * fields that override it.
 */
export const samlRequest = samlOverrides.extend({ metadata: samlMetadataXml.optional() }).describe('SAML service provider settings, or metadata with the fields that override it');

/** An application as the CLI and the admin API send it: `saml` settings, or `samlMetadata` with `saml` overrides. */
export const applicationRequest = applicationInput.omit({ saml: true }).extend({
  saml: samlOverrides.optional().describe('SAML service provider settings; with samlMetadata, only the fields that override it'),
  samlMetadata: samlMetadataXml.optional(),
});

/**
 * An application edit: the fields given replace the stored ones (lists whole), the result is checked
 * like a new application. Its client id, whether it is public and its secret (rotated on its own,
 * below) do not change; `null` clears the ID token algorithm, the back-channel logout URI or SAML.
 */
export const applicationPatch = z.strictObject({
  ...optionalFields(applicationInput.omit({ public: true, saml: true, idTokenSignedResponseAlg: true, backchannelLogoutUri: true }).shape),
  idTokenSignedResponseAlg: applicationInput.shape.idTokenSignedResponseAlg.unwrap().nullable().optional(),
  backchannelLogoutUri: redirectUri.nullable().optional(),
  saml: samlRequest.nullable().optional(),
});

/** A client secret rotation: how long the secret it replaces keeps working (0: not at all). */
export const secretRotation = z.strictObject({
  overlapMinutes: z.int().min(0).max(7 * 24 * 60).default(60).describe('Minutes the previous secret keeps working (default 60, at most 7 days; 0 revokes it at once)'),
});

/** A team edit: its name (the key stays). */
export const teamPatch = z.strictObject({ name: z.string().min(1).max(200) });

export type UserInput = z.input<typeof userInput>;
export type RoleInput = z.input<typeof roleInput>;
export type RolePatch = z.input<typeof rolePatch>;
export type AssignmentInput = z.input<typeof assignmentInput>;
export type ApplicationInput = z.input<typeof applicationInput>;
export type ApplicationRequest = z.input<typeof applicationRequest>;
export type ApplicationPatch = z.input<typeof applicationPatch>;
export type SecretRotation = z.input<typeof secretRotation>;
export type TeamPatch = z.input<typeof teamPatch>;
export type LocationPatch = z.input<typeof locationPatch>;
export type SamlOverrides = z.input<typeof samlOverrides>;
export type SamlRequest = z.input<typeof samlRequest>;
export type ScopeInput = z.infer<typeof scopeInput>;

/** A yes/no filter: true or false, from a query string or JSON. */
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/** The user list's search and filters (GET /users): every filter optional, combined with AND. */
export const userQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
  q: z.string().trim().min(1).max(200).optional().describe('Part of a username, email or name'),
  status: z.enum(['invited', 'active', 'disabled', 'locked', 'expired']).optional(),
  role: keySchema.optional().describe('Holds this role, anywhere (directly or through a team)'),
  location: keySchema.optional().describe('Holds a role at this location or one below it'),
  institution: keySchema.optional(),
  team: keySchema.optional(),
  userType: keySchema.optional(),
  phi: flag.optional(),
  vendor: flag.optional(),
  inactiveDays: z.coerce.number().int().min(1).max(3650).optional().describe('Has not signed in for this many days (or never)'),
});
export type UserQuery = z.input<typeof userQuery>;
