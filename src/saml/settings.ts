// A SAML service provider's settings: what an application needs besides (or instead of) its OIDC
// client registration. Kept as one JSON document on the application row (applications.saml) and
// validated by this schema wherever it is written: CLI, admin API, SP-metadata import.
import { z } from 'zod';

/** The facts an assertion can carry, named as in OIDC tokens (docs/saml.md, "Attributes and NameID"). */
export const SAML_FACTS = ['username', 'email', 'name', 'phone', 'tenant', 'tenant_id', 'roles', 'permissions', 'locations', 'location_roles', 'institutions', 'teams', 'phi'] as const;
export type SamlFact = (typeof SAML_FACTS)[number];

export const NAME_ID_FORMATS = {
  persistent: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  transient: 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient',
  email: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  unspecified: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
} as const;
export type NameIdFormat = keyof typeof NAME_ID_FORMATS;

export const ATTRIBUTE_NAME_FORMATS = {
  basic: 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
  uri: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
  unspecified: 'urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified',
} as const;

// https, or http on loopback for development (the same rule as OIDC redirect URIs).
export const endpointUrl = z
  .url()
  .max(2048)
  .refine((u) => {
    const url = new URL(u);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
  }, 'must be https (http only on localhost)')
  .refine((u) => !new URL(u).hash, 'must not have a fragment');

/** A PEM certificate or its base64 body (as in metadata); stored as the base64 body. */
export const certificate = z
  .string()
  .max(16_384)
  .transform((c) => c.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''))
  .refine((c) => /^[A-Za-z0-9+/]+={0,2}$/.test(c) && c.length > 100, 'must be a PEM or base64 X.509 certificate');

export const samlSettingsSchema = z
  .strictObject({
    entityId: z.string().min(1).max(1024),
    /** Assertion Consumer Services. Responses travel over HTTP-POST only (the Web SSO profile). */
    acs: z
      .array(z.strictObject({ url: endpointUrl, index: z.int().min(0).max(65535), isDefault: z.boolean().default(false) }))
      .min(1)
      .max(20),
    /** Single Logout endpoint of the SP; `responseUrl` when its LogoutResponses go elsewhere. */
    slo: z.strictObject({ url: endpointUrl, binding: z.enum(['redirect', 'post']).default('redirect'), responseUrl: endpointUrl.optional() }).nullable().default(null),
    /** Certificates the SP signs its requests with (several during its own rollover). */
    signingCertificates: z.array(certificate).max(5).default([]),
    /** Certificate whose key encrypts assertions for this SP. */
    encryptionCertificate: certificate.nullable().default(null),
    nameIdFormat: z.enum(Object.keys(NAME_ID_FORMATS) as [NameIdFormat, ...NameIdFormat[]]).default('persistent'),
    signResponse: z.boolean().default(true),
    signAssertion: z.boolean().default(true),
    encryptAssertion: z.boolean().default(false),
    /** Refuse AuthnRequests and LogoutRequests that are not signed (signed ones are always verified). */
    requireSignedRequests: z.boolean().default(false),
    /** Renames or omits attributes: fact → { name, nameFormat } or null to leave it out. */
    attributes: z
      .partialRecord(z.enum(SAML_FACTS), z.strictObject({ name: z.string().min(1).max(256), nameFormat: z.enum(['basic', 'uri', 'unspecified']).default('basic') }).nullable())
      .default({}),
    clockSkewSeconds: z.int().min(0).max(600).default(60),
    assertionLifetimeSeconds: z.int().min(30).max(3600).default(300),
    /** May a user start at Caregate and be sent to this SP (unsolicited response)? */
    allowIdpInitiated: z.boolean().default(true),
    /** RelayState sent with IdP-initiated responses (the SP's landing page), if any. */
    defaultRelayState: z.string().max(80).nullable().default(null),
  })
  .refine((s) => !s.encryptAssertion || s.encryptionCertificate, { message: 'encryptAssertion needs an encryptionCertificate', path: ['encryptAssertion'] })
  .refine((s) => s.signResponse || s.signAssertion, { message: 'sign the response, the assertion, or both', path: ['signResponse'] })
  .refine((s) => new Set(s.acs.map((a) => a.index)).size === s.acs.length, { message: 'ACS indexes must be unique', path: ['acs'] })
  .refine((s) => !s.requireSignedRequests || s.signingCertificates.length > 0, { message: 'requireSignedRequests needs at least one signingCertificate', path: ['requireSignedRequests'] });

export type SamlSettings = z.output<typeof samlSettingsSchema>;
export type SamlSettingsInput = z.input<typeof samlSettingsSchema>;

/** Default attribute names: the OIDC claim names, basic name format. */
export function attributeFor(settings: SamlSettings, fact: SamlFact): { name: string; nameFormat: string } | null {
  const override = settings.attributes[fact];
  if (override === null) return null;
  const chosen = override ?? { name: fact, nameFormat: 'basic' as const };
  return { name: chosen.name, nameFormat: ATTRIBUTE_NAME_FORMATS[chosen.nameFormat] };
}

/** The ACS a response goes to: the one asked for by index or URL (must be registered), else the default. */
export function pickAcs(settings: SamlSettings, ask: { index?: number; url?: string }) {
  if (ask.url !== undefined) return settings.acs.find((a) => a.url === ask.url);
  if (ask.index !== undefined) return settings.acs.find((a) => a.index === ask.index);
  return settings.acs.find((a) => a.isDefault) ?? [...settings.acs].sort((a, b) => a.index - b.index)[0];
}
