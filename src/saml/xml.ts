// The only way SAML XML enters Caregate: size-limited, DOCTYPE-free (so no DTD, no entity of any
// kind, internal or external), no processing instructions, parsed by @xmldom/xmldom with every
// parser error fatal. XSLT never runs: xml-crypto implements no XSLT transform, and signature
// checks accept only the transforms listed in signatures.ts.
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { inflateRawSync } from 'node:zlib';

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
} as const;

export const BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;

/** Largest XML document Caregate reads (requests are a few KiB; SP metadata can be larger). */
export const MAX_XML_BYTES = 256 * 1024;

/**
 * A SAML message Caregate cannot accept. `reason` is the stable audit reason; `message` is safe to
 * show to the person whose browser carried it.
 */
export class SamlError extends Error {
  readonly reason: string;
  readonly status: number;
  constructor(reason: string, message: string, status = 400) {
    super(message);
    this.name = 'SamlError';
    this.reason = reason;
    this.status = status;
  }
}

const malformed = (why: string) => new SamlError('malformed', `The SAML message could not be read: ${why}.`);

/** Parses XML that came from outside. Throws SamlError('malformed') for anything unexpected. */
export function parseXml(xml: string, maxBytes = MAX_XML_BYTES): Document {
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) throw malformed(`it is larger than ${Math.round(maxBytes / 1024)} KiB`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw malformed('document type declarations are not allowed');
  // Only the XML declaration itself may look like a processing instruction.
  if (/<\?(?!xml[\s?])/i.test(xml) || /(?<!^\s*)<\?xml/i.test(xml)) throw malformed('processing instructions are not allowed');
  let doc: Document;
  try {
    doc = new DOMParser({
      locator: false,
      // xmldom "warns" when it repairs broken markup (an unquoted attribute value, say): for a
      // message from outside that is malformed too. Only a U+FFFD in the text is merely noted.
      onError: (level: string, message: string) => {
        if (level !== 'warning' || !/replacement character/i.test(message)) throw new Error(message);
      },
    }).parseFromString(xml, 'text/xml');
  } catch {
    throw malformed('it is not well-formed XML');
  }
  if (!doc.documentElement) throw malformed('it has no root element');
  return doc;
}

/** Decodes a base64 SAMLRequest / SAMLResponse; `deflated` for the HTTP-Redirect binding. */
export function decodeMessage(encoded: unknown, deflated: boolean): string {
  if (typeof encoded !== 'string' || !encoded) throw malformed('the message is missing');
  // base64 of MAX_XML_BYTES, and a deflated message can only be smaller than its XML.
  if (encoded.length > Math.ceil(MAX_XML_BYTES / 3) * 4 + 4) throw malformed('it is too large');
  const compact = encoded.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw malformed('it is not base64');
  const raw = Buffer.from(compact, 'base64');
  if (!deflated) return raw.toString('utf8');
  try {
    // maxOutputLength stops a deflate bomb at the size limit instead of filling memory.
    return inflateRawSync(raw, { maxOutputLength: MAX_XML_BYTES }).toString('utf8');
  } catch {
    throw malformed('it is not a deflated message, or inflates past the size limit');
  }
}

export const isElement = (n: Node | null | undefined): n is Element => !!n && n.nodeType === 1;

/** Child elements of `parent` in namespace `ns` called `name`. */
export function children(parent: Element | Document, ns: string, name: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (isElement(n) && n.namespaceURI === ns && n.localName === name) out.push(n);
  return out;
}

export const child = (parent: Element | Document, ns: string, name: string): Element | undefined => children(parent, ns, name)[0];

/** Trimmed text content of an element (undefined when absent or empty). */
export function text(el: Element | undefined): string | undefined {
  const t = el?.textContent?.trim();
  return t ? t : undefined;
}

export function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? el.getAttribute(name)! : undefined;
}
