// What an application must be, whether it is being registered or edited: the checks both run on the
// whole application, the SAML entity ID it may take, and how it is shown (never its secrets).
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { parseSpMetadata, samlSettingsSchema, type SamlSettings } from '../saml/index.ts';
import { isUniqueViolation, queries, type Application, type Repos } from '../storage/index.ts';
import { parseInput } from './parse-input.ts';
import { samlOverrides, type SamlOverrides, type SamlRequest } from './schemas.ts';

export const secretContext = (clientId: string) => `client_secret:${clientId}`;

/** The application without its sealed secrets (the previous one's end stays visible). */
export function publicApplication(app: Application) {
  const { clientSecretSealed, previousSecretSealed, ...rest } = app;
  return rest;
}

export async function requireApplication(repos: Repos, tenantId: string, clientId: string): Promise<Application> {
  const app = await repos.applications.findOneBy({ tenantId, clientId });
  if (!app) throw new NotFoundError(`application "${clientId}" does not exist`);
  return app;
}

/** What the checks read: an application as it would be stored, with its service roles. */
export interface ApplicationShape {
  public: boolean;
  grantTypes: string[];
  redirectUris: string[];
  serviceRoles: string[];
  saml?: SamlSettings | null;
  resource?: string;
  allowedResources: string[];
}

/** The same resource spelt differently (host in capitals, a trailing slash) counts as the same. */
const sameResource = (a: string, b: string) => {
  const norm = (v: string) => {
    try {
      const u = new URL(v);
      return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`.toLowerCase();
    } catch {
      return v;
    }
  };
  return norm(a) === norm(b);
};

/**
 * Refuses an application that could not work or would reach too far: each grant with what it needs,
 * and the admin API only through the adminApi flag (whose service roles the grant rule checks) — no
 * application may name it as its own API or as one it is allowed.
 */
export function checkApplication(adminResource: string, app: ApplicationShape): void {
  if (!app.grantTypes.length && !app.saml) throw new ValidationError('grantTypes: an application needs an OpenID Connect grant or SAML settings');
  if (app.grantTypes.includes('authorization_code') && !app.redirectUris.length) {
    throw new ValidationError('redirectUris: required for the authorization_code grant');
  }
  if (app.public && app.grantTypes.includes('client_credentials')) {
    throw new ValidationError('grantTypes: a public application cannot use client_credentials');
  }
  if (app.serviceRoles.length && !app.grantTypes.includes('client_credentials')) {
    throw new ValidationError('serviceRoles: only for applications with the client_credentials grant');
  }
  if (app.resource && sameResource(app.resource, adminResource)) {
    throw new ValidationError('resource: the admin API cannot be an application\'s own API; register the application with adminApi instead');
  }
  if (app.allowedResources.some((r) => sameResource(r, adminResource))) {
    throw new ValidationError('allowedResources: the admin API cannot be allowed as a resource; register the application with adminApi instead');
  }
}

/** Refuses a resource indicator another application of the tenant names as its API. */
export async function requireFreeResource(repos: Repos, tenantId: string, resource: string, appId?: string) {
  const holder = await repos.applications.findOneBy({ tenantId, resource });
  if (holder && holder.id !== appId) throw new ConflictError(`another application already uses resource "${resource}"`);
}

/** The application a SAML entity ID names in a tenant (an AuthnRequest's Issuer), through the unique index. */
export function findSamlApplication(repos: Repos, tenantId: string, entityId: string): Promise<Application | null> {
  return queries.applications.findBySamlEntityId(repos, tenantId, entityId);
}

const entityIdTaken = (entityId: string) => new ConflictError(`another application of this tenant already uses the SAML entity ID "${entityId}"`);

/** Refuses an entity ID another application of the tenant holds. */
export async function requireFreeEntityId(repos: Repos, tenantId: string, entityId: string, appId?: string) {
  const holder = await findSamlApplication(repos, tenantId, entityId);
  if (holder && holder.id !== appId) throw entityIdTaken(entityId);
}

/** Two writers racing for one entity ID: the unique index decides, and the loser gets the same 409. */
export const onEntityIdRace = (entityId: string | undefined) => (error: unknown): never => {
  throw entityId !== undefined && isUniqueViolation(error, 'applications_saml_entity_id') ? entityIdTaken(entityId) : error;
};

/** SP metadata read into settings, `overrides` replacing what it says field by field; validated whole. */
export function samlFromMetadata(xml: string, overrides: SamlOverrides = {}): SamlSettings {
  return parseInput(samlSettingsSchema, { ...parseSpMetadata(xml), ...parseInput(samlOverrides, overrides) });
}

/** Settings from a request: read from its metadata when it has some, else the request is the settings. */
export function samlSettings({ metadata, ...settings }: SamlRequest): SamlSettings {
  return metadata ? samlFromMetadata(metadata, settings) : parseInput(samlSettingsSchema, settings);
}
