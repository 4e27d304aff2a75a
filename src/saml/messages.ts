// SAML protocol messages: reading the requests service providers send (AuthnRequest,
// LogoutRequest, LogoutResponse) and building the ones Caregate sends (Response with its
// Assertion, LogoutRequest, LogoutResponse). XML is built by xmlbuilder2, which escapes every value.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Element } from '@xmldom/xmldom';
import { attr, child, children, NS, parseXml, SamlError, text } from './xml.ts';

// xmlbuilder2 loads with the first document built, not at import: a process that only validates
// SAML settings (a CLI command) never pays for it.
let xmlbuilder2: typeof import('xmlbuilder2') | undefined;
/** A new, empty XML document. */
export const newDocument = () => (xmlbuilder2 ??= createRequire(import.meta.url)('xmlbuilder2') as typeof import('xmlbuilder2')).create();

export const STATUS = {
  success: 'urn:oasis:names:tc:SAML:2.0:status:Success',
  requester: 'urn:oasis:names:tc:SAML:2.0:status:Requester',
  responder: 'urn:oasis:names:tc:SAML:2.0:status:Responder',
  noPassive: 'urn:oasis:names:tc:SAML:2.0:status:NoPassive',
  requestDenied: 'urn:oasis:names:tc:SAML:2.0:status:RequestDenied',
  authnFailed: 'urn:oasis:names:tc:SAML:2.0:status:AuthnFailed',
  partialLogout: 'urn:oasis:names:tc:SAML:2.0:status:PartialLogout',
  invalidNameIdPolicy: 'urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy',
} as const;

export const AUTHN_CONTEXT = {
  password: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  mfa: 'https://refeds.org/profile/mfa',
} as const;

/** IDs Caregate sends: an NCName ("_" first), 160 random bits. */
export const newId = () => `_${randomBytes(20).toString('hex')}`;
const instant = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const malformed = (why: string) => new SamlError('malformed', `The SAML message could not be read: ${why}.`);

interface Envelope {
  id: string;
  issuer: string;
  issueInstant: Date;
  destination?: string;
}

/** The parts every request and response share, checked for presence and shape. */
function envelope(root: Element, expected: string): Envelope {
  if (root.namespaceURI !== NS.protocol || root.localName !== expected) throw malformed(`expected a ${expected}`);
  if (attr(root, 'Version') !== '2.0') throw malformed('only SAML 2.0 is supported');
  const id = attr(root, 'ID');
  if (!id || id.length > 256 || !/^[A-Za-z_][\w.-]*$/.test(id)) throw malformed('the ID is missing or not an XML name');
  const issueInstant = new Date(attr(root, 'IssueInstant') ?? '');
  if (Number.isNaN(issueInstant.getTime())) throw malformed('IssueInstant is missing or not a date');
  const issuer = text(child(root, NS.assertion, 'Issuer'));
  if (!issuer || issuer.length > 1024) throw malformed('the Issuer is missing');
  const destination = attr(root, 'Destination');
  return { id, issuer, issueInstant, ...(destination ? { destination } : {}) };
}

export interface AuthnRequest extends Envelope {
  acsUrl?: string;
  acsIndex?: number;
  protocolBinding?: string;
  forceAuthn: boolean;
  isPassive: boolean;
  nameIdFormat?: string;
  authnContextClassRefs: string[];
}

const bool = (v: string | undefined) => v === 'true' || v === '1';

export function readAuthnRequest(xml: string): AuthnRequest {
  const root = parseXml(xml).documentElement!;
  const base = envelope(root, 'AuthnRequest');
  const index = attr(root, 'AssertionConsumerServiceIndex');
  if (index !== undefined && !/^\d{1,5}$/.test(index)) throw malformed('AssertionConsumerServiceIndex is not a number');
  const policy = child(root, NS.protocol, 'NameIDPolicy');
  const requested = child(root, NS.protocol, 'RequestedAuthnContext');
  const acsUrl = attr(root, 'AssertionConsumerServiceURL');
  const binding = attr(root, 'ProtocolBinding');
  const format = policy && attr(policy, 'Format');
  return {
    ...base,
    ...(acsUrl ? { acsUrl } : {}),
    ...(index !== undefined ? { acsIndex: Number(index) } : {}),
    ...(binding ? { protocolBinding: binding } : {}),
    forceAuthn: bool(attr(root, 'ForceAuthn')),
    isPassive: bool(attr(root, 'IsPassive')),
    ...(format ? { nameIdFormat: format } : {}),
    authnContextClassRefs: requested ? children(requested, NS.assertion, 'AuthnContextClassRef').map((e) => text(e) ?? '') : [],
  };
}

export interface LogoutRequest extends Envelope {
  nameId: string;
  sessionIndexes: string[];
  notOnOrAfter?: Date;
}

export function readLogoutRequest(xml: string): LogoutRequest {
  const root = parseXml(xml).documentElement!;
  const base = envelope(root, 'LogoutRequest');
  const nameId = text(child(root, NS.assertion, 'NameID'));
  if (!nameId) throw malformed('the NameID is missing (encrypted NameIDs are not supported)');
  const expiry = attr(root, 'NotOnOrAfter');
  const notOnOrAfter = expiry === undefined ? undefined : new Date(expiry);
  // An unreadable expiry would compare as never expired.
  if (notOnOrAfter && Number.isNaN(notOnOrAfter.getTime())) throw malformed('NotOnOrAfter is not a date');
  return {
    ...base,
    nameId,
    sessionIndexes: children(root, NS.protocol, 'SessionIndex').map((e) => text(e) ?? ''),
    ...(notOnOrAfter ? { notOnOrAfter } : {}),
  };
}

export interface LogoutResponse extends Envelope {
  inResponseTo: string;
  status: string;
}

export function readLogoutResponse(xml: string): LogoutResponse {
  const root = parseXml(xml).documentElement!;
  const base = envelope(root, 'LogoutResponse');
  const inResponseTo = attr(root, 'InResponseTo');
  if (!inResponseTo) throw malformed('InResponseTo is missing');
  const code = child(root, NS.protocol, 'Status');
  const status = code && child(code, NS.protocol, 'StatusCode');
  return { ...base, inResponseTo, status: (status && attr(status, 'Value')) ?? '' };
}

/** Which kind of message a decoded document holds (for one endpoint taking several). */
export function messageKind(xml: string): string {
  const root = parseXml(xml).documentElement!;
  return root.namespaceURI === NS.protocol ? root.localName ?? '' : '';
}

export interface AttributeOut {
  name: string;
  nameFormat: string;
  values: string[];
}

export interface AssertionInput {
  id: string;
  issuer: string;
  now: Date;
  audience: string;
  recipient: string;
  inResponseTo?: string;
  nameId: { value: string; format: string };
  lifetimeSeconds: number;
  clockSkewSeconds: number;
  sessionIndex: string;
  authnInstant: Date;
  authnContext: string;
  attributes: AttributeOut[];
}

/** The Assertion element, unsigned, with its namespaces declared on itself (so it can be signed alone). */
export function buildAssertion(a: AssertionInput): string {
  const notBefore = new Date(a.now.getTime() - a.clockSkewSeconds * 1000);
  const notOnOrAfter = new Date(a.now.getTime() + a.lifetimeSeconds * 1000);
  const root = newDocument().ele(NS.assertion, 'saml:Assertion', { ID: a.id, Version: '2.0', IssueInstant: instant(a.now) });
  root.ele(NS.assertion, 'saml:Issuer').txt(a.issuer);
  const subject = root.ele(NS.assertion, 'saml:Subject');
  subject.ele(NS.assertion, 'saml:NameID', { Format: a.nameId.format, SPNameQualifier: a.audience }).txt(a.nameId.value);
  subject
    .ele(NS.assertion, 'saml:SubjectConfirmation', { Method: 'urn:oasis:names:tc:SAML:2.0:cm:bearer' })
    .ele(NS.assertion, 'saml:SubjectConfirmationData', { NotOnOrAfter: instant(notOnOrAfter), Recipient: a.recipient, ...(a.inResponseTo ? { InResponseTo: a.inResponseTo } : {}) });
  root
    .ele(NS.assertion, 'saml:Conditions', { NotBefore: instant(notBefore), NotOnOrAfter: instant(notOnOrAfter) })
    .ele(NS.assertion, 'saml:AudienceRestriction')
    .ele(NS.assertion, 'saml:Audience')
    .txt(a.audience);
  root
    .ele(NS.assertion, 'saml:AuthnStatement', { AuthnInstant: instant(a.authnInstant), SessionIndex: a.sessionIndex })
    .ele(NS.assertion, 'saml:AuthnContext')
    .ele(NS.assertion, 'saml:AuthnContextClassRef')
    .txt(a.authnContext);
  const present = a.attributes.filter((x) => x.values.length);
  if (present.length) {
    const statement = root.ele(NS.assertion, 'saml:AttributeStatement');
    for (const attribute of present) {
      const el = statement.ele(NS.assertion, 'saml:Attribute', { Name: attribute.name, NameFormat: attribute.nameFormat });
      for (const value of attribute.values) el.ele(NS.assertion, 'saml:AttributeValue').txt(value);
    }
  }
  return root.end({ headless: true });
}

const ASSERTION_SLOT = '<caregate-assertion-slot/>';

export interface ResponseInput {
  id: string;
  issuer: string;
  now: Date;
  destination: string;
  inResponseTo?: string;
  status: string;
  subStatus?: string;
  statusMessage?: string;
  /** A signed (and perhaps encrypted) assertion, inserted as is. */
  assertion?: string;
}

/** The Response envelope. The assertion is spliced in verbatim so its signature stays intact. */
export function buildResponse(r: ResponseInput): string {
  const root = newDocument().ele(NS.protocol, 'samlp:Response', {
    'xmlns:saml': NS.assertion,
    ID: r.id,
    Version: '2.0',
    IssueInstant: instant(r.now),
    Destination: r.destination,
    ...(r.inResponseTo ? { InResponseTo: r.inResponseTo } : {}),
  });
  root.ele(NS.assertion, 'saml:Issuer').txt(r.issuer);
  statusElement(root, r);
  if (r.assertion) root.ele('caregate-assertion-slot');
  const xml = root.end({ headless: true });
  return r.assertion ? xml.replace(ASSERTION_SLOT, r.assertion) : xml;
}

type Builder = ReturnType<typeof newDocument>;

function statusElement(root: Builder, r: { status: string; subStatus?: string; statusMessage?: string }) {
  const status = root.ele(NS.protocol, 'samlp:Status');
  const code = status.ele(NS.protocol, 'samlp:StatusCode', { Value: r.status });
  if (r.subStatus) code.ele(NS.protocol, 'samlp:StatusCode', { Value: r.subStatus });
  if (r.statusMessage) status.ele(NS.protocol, 'samlp:StatusMessage').txt(r.statusMessage);
}

export function buildLogoutRequest(r: { id: string; issuer: string; now: Date; destination: string; nameId: { value: string; format: string; spNameQualifier: string }; sessionIndex: string }): string {
  const root = newDocument().ele(NS.protocol, 'samlp:LogoutRequest', {
    'xmlns:saml': NS.assertion,
    ID: r.id,
    Version: '2.0',
    IssueInstant: instant(r.now),
    Destination: r.destination,
    NotOnOrAfter: instant(new Date(r.now.getTime() + 5 * 60_000)),
  });
  root.ele(NS.assertion, 'saml:Issuer').txt(r.issuer);
  root.ele(NS.assertion, 'saml:NameID', { Format: r.nameId.format, SPNameQualifier: r.nameId.spNameQualifier }).txt(r.nameId.value);
  root.ele(NS.protocol, 'samlp:SessionIndex').txt(r.sessionIndex);
  return root.end({ headless: true });
}

export function buildLogoutResponse(r: { id: string; issuer: string; now: Date; destination: string; inResponseTo: string; status: string; subStatus?: string; statusMessage?: string }): string {
  const root = newDocument().ele(NS.protocol, 'samlp:LogoutResponse', {
    'xmlns:saml': NS.assertion,
    ID: r.id,
    Version: '2.0',
    IssueInstant: instant(r.now),
    Destination: r.destination,
    InResponseTo: r.inResponseTo,
  });
  root.ele(NS.assertion, 'saml:Issuer').txt(r.issuer);
  statusElement(root, r);
  return root.end({ headless: true });
}
