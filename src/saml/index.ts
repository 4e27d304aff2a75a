// The SAML toolkit: XML parsing, messages, signatures, metadata and a service provider's settings.
// Used by the IdP endpoints (src/saml-idp) and by federation; it imports no other capability.
export { attr, BINDING, child, children, decodeMessage, isElement, MAX_XML_BYTES, NS, parseXml, SamlError, text } from './xml.ts';
export {
  AUTHN_CONTEXT,
  buildAssertion,
  buildLogoutRequest,
  buildLogoutResponse,
  buildResponse,
  messageKind,
  newId,
  readAuthnRequest,
  readLogoutRequest,
  readLogoutResponse,
  STATUS,
  type AttributeOut,
  type AuthnRequest,
} from './messages.ts';
export { pem, signElement, signRedirectQuery, verifyRedirectSignature, verifyRootSignature, type IdpKeys, type SigningMaterial } from './signatures.ts';
export { buildIdpMetadata, METADATA_VALIDITY_SECONDS } from './metadata.ts';
export { keyCertificates, metadataRoot, parseSpMetadata } from './sp-metadata.ts';
export {
  attributeFor,
  certificate,
  endpointUrl,
  NAME_ID_FORMATS,
  pickAcs,
  SAML_FACTS,
  samlSettingsSchema,
  type NameIdFormat,
  type SamlFact,
  type SamlSettings,
  type SamlSettingsInput,
} from './settings.ts';
