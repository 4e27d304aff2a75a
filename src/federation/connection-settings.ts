// A federation connection's settings: one schema per protocol, validated on every write (CLI,
// admin API). Presets fill in what each corporate IdP needs; an admin gives the rest.
import { z } from 'zod';
import { schemas } from '../accounts/index.ts';
import { certificate, endpointUrl } from '../saml/index.ts';
import { mappingRules, PROFILE_FIELDS } from '../upstream/index.ts';

export const PRESETS = ['generic', 'okta', 'entra', 'google'] as const;
export type Preset = (typeof PRESETS)[number];

const domain = z.string().max(253).regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'must be a lowercase DNS domain, e.g. northwell.example');

/** What every connection has, whatever its protocol. */
const common = {
  key: schemas.keySchema.describe('Stable name: in its URLs and in its users\' source (federation:<key>)'),
  name: z.string().min(1).max(200).describe('Shown on the sign-in button'),
  preset: z.enum(PRESETS).default('generic'),
  domains: z.array(domain).max(50).default([]).describe('Email domains whose users the sign-in page sends here (home-realm discovery)'),
  button: z.boolean().default(true).describe('Show a "Sign in with …" button on the sign-in page'),
  federatedOnly: z.boolean().default(false).describe("Its users may not sign in with a local password"),
  jit: z.boolean().default(true).describe('Create the user at first sign-in'),
  linkByEmail: z.boolean().default(false).describe('Link a first sign-in to an existing account with the same verified email'),
  requireVerifiedEmail: z.boolean().default(true).describe('Refuse an identity whose email the upstream does not vouch for'),
  trustUpstreamMfa: z.boolean().default(false).describe("Accept the upstream's second factor as Caregate's"),
  profileFields: z.array(z.enum(PROFILE_FIELDS)).default(['email', 'displayName', 'phone']).describe('Profile fields the upstream owns (updated at every sign-in)'),
  mappings: mappingRules.default([]),
  enabled: z.boolean().default(true),
};

// https, or http on loopback (a development IdP).
const issuerUrl = endpointUrl;
const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const oidcSettings = z
  .strictObject({
    ...common,
    type: z.literal('oidc'),
    issuer: issuerUrl.optional().describe("The upstream's issuer (discovery at {issuer}/.well-known/openid-configuration); Entra: derived from entraTenant"),
    clientId: z.string().min(1).max(512),
    clientSecret: z.string().min(1).max(1024).optional().describe('Client secret (stored sealed); omit for private_key_jwt'),
    clientAuth: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).default('client_secret_basic'),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).max(30).optional().describe('Scopes to request (default openid profile email, plus the preset\'s)'),
    groupsClaim: z.string().min(1).max(200).default('groups').describe('Claim that carries group memberships'),
    usernameClaim: z.string().min(1).max(200).default('preferred_username'),
    userinfo: z.boolean().default(true).describe('Also read the userinfo endpoint'),
    timeoutSeconds: z.int().min(1).max(60).default(10),
    clockSkewSeconds: z.int().min(0).max(600).default(60),
    entraTenant: z.string().max(64).optional().describe('Entra ID: directory (tenant) ID, or "organizations" for multi-tenant'),
    allowedTenants: z.array(z.string().regex(guid, 'must be a directory (tenant) ID')).max(100).default([]).describe('Entra ID: tenants whose users may sign in (multi-tenant)'),
    graphUrl: endpointUrl.default('https://graph.microsoft.com').describe('Entra ID: Microsoft Graph, read when a token carries too many groups (overage)'),
    hostedDomains: z.array(domain).max(50).default([]).describe('Google Workspace: domains (hd) whose accounts may sign in'),
  })
  .superRefine((s, ctx) => {
    const fail = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (s.preset === 'entra') {
      if (!s.entraTenant && !s.issuer) fail('entraTenant', 'required for Entra ID (the directory ID, or "organizations")');
      const multi = s.entraTenant === 'organizations' || s.entraTenant === 'common';
      if (s.entraTenant && !multi && !guid.test(s.entraTenant)) fail('entraTenant', 'must be a directory (tenant) ID or "organizations"');
      // Any Microsoft tenant could otherwise sign users in (and, with JIT, create accounts).
      if (multi && !s.allowedTenants.length) fail('allowedTenants', 'a multi-tenant Entra connection must list the tenants it accepts');
    } else if (!s.issuer) fail('issuer', 'required');
    if (s.preset === 'google' && !s.hostedDomains.length) fail('hostedDomains', 'a Google Workspace connection must name its domains (otherwise any Google account signs in)');
  });

export const samlSettings = z.strictObject({
  ...common,
  type: z.literal('saml'),
  idpEntityId: z.string().min(1).max(1024),
  ssoUrl: endpointUrl.describe("The IdP's SingleSignOnService (HTTP-Redirect)"),
  idpCertificates: z.array(certificate).min(1).max(5).describe('Certificates the IdP signs with (several during its rollover)'),
  signRequests: z.boolean().default(true),
  nameIdFormat: z.enum(['persistent', 'unspecified', 'email']).default('persistent'),
  clockSkewSeconds: z.int().min(0).max(600).default(60),
  attributes: z.strictObject({
    email: z.array(z.string().min(1).max(512)).max(10).optional(),
    displayName: z.array(z.string().min(1).max(512)).max(10).optional(),
    username: z.array(z.string().min(1).max(512)).max(10).optional(),
    phone: z.array(z.string().min(1).max(512)).max(10).optional(),
    groups: z.array(z.string().min(1).max(512)).max(10).optional(),
  }).default({}).describe('Attribute names to read each fact from (defaults cover Okta, Entra and Google names)'),
});

export const connectionSettings = z.discriminatedUnion('type', [oidcSettings, samlSettings]);
export type OidcSettings = z.output<typeof oidcSettings>;
export type SamlConnectionSettings = z.output<typeof samlSettings>;
export type ConnectionSettings = z.output<typeof connectionSettings>;
export type ConnectionInput = z.input<typeof connectionSettings>;

/** Secrets kept sealed beside a connection, never returned by the API. */
export interface ConnectionSecrets {
  clientSecret?: string;
  /** private_key_jwt: the private JWK whose public half Caregate publishes. */
  privateJwk?: Record<string, unknown>;
  /** SAML: the SP key that signs AuthnRequests (PKCS#8 PEM) and its certificate (base64 DER). */
  spKeyPem?: string;
  spCertificate?: string;
}

/** Default attribute names for SAML facts: SAML/X.500 URNs, Microsoft's claim URIs, plain names. */
export const SAML_ATTRIBUTE_DEFAULTS = {
  email: ['email', 'mail', 'emailaddress', 'urn:oid:0.9.2342.19200300.100.1.3', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
  displayName: ['displayName', 'name', 'urn:oid:2.16.840.1.113730.3.1.241', 'http://schemas.microsoft.com/identity/claims/displayname'],
  username: ['username', 'uid', 'urn:oid:0.9.2342.19200300.100.1.1', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'],
  phone: ['phone', 'mobile', 'telephoneNumber', 'urn:oid:2.5.4.20'],
  groups: ['groups', 'memberOf', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups', 'urn:oid:1.3.6.1.4.1.5923.1.5.1.1'],
} as const;

/** What an admin sends to create a connection: SAML settings may come from the IdP's metadata XML. */
export const connectionRequest = z.discriminatedUnion('type', [
  oidcSettings,
  samlSettings.partial({ idpEntityId: true, ssoUrl: true, idpCertificates: true }).extend({
    idpMetadata: z.string().min(1).max(256 * 1024).optional().describe("The IdP's SAML metadata XML (an EntityDescriptor); given fields override it"),
  }),
]);
