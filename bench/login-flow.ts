// One password sign-in, end to end, the way a browser and a confidential relying party do it:
// authorize (PKCE S256) → login page (CSRF field) → POST credentials → resume → code → token.
// Plain fetch with manual redirects and a per-flow cookie jar (each flow is a new browser), so
// every request the server sees is one a real sign-in makes. Also the refresh-token grant, and the
// login form on its own (openLoginForm) for the rejected-attempt figures.
import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { basicAuth } from './client-credentials.ts';
import type { Steps } from './closed-loop.ts';

export interface RelyingParty {
  /** Tenant issuer, e.g. http://127.0.0.1:4000/t/demo */
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /**
   * The application's API: the access token is a JWT for it, carrying projected claims. Empty: no
   * resource indicator is sent, and the access token is an opaque one for the userinfo endpoint.
   */
  resource: string;
  scope: string;
}

export interface Credentials {
  username: string;
  password: string;
}

export interface TokenResponse {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
}

const b64url = (buf: Buffer) => buf.toString('base64url');

/** Cookies by name, ignoring Path: oidc-provider's cookie names do not collide across paths. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  store(res: Response) {
    this.storeLines(res.headers.getSetCookie());
  }
  /** Set-Cookie header lines (node:http gives them as an array). */
  storeLines(lines: readonly string[]) {
    for (const line of lines) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && new Date(a.split('=')[1]!) < new Date()));
      if (expired || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

interface Hop {
  status: number;
  location?: string;
  body: string;
}

async function hop(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Hop> {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers as Record<string, string>), cookie: jar.header(), accept: 'text/html' },
  });
  jar.store(res);
  const location = res.headers.get('location');
  return { status: res.status, location: location ? new URL(location, url).href : undefined, body: await res.text() };
}

function expectRedirect(step: string, h: Hop, containing: string): string {
  if (h.status < 300 || h.status > 399 || !h.location?.includes(containing)) {
    throw new Error(`${step}: expected a redirect to …${containing}…, got HTTP ${h.status} ${h.location ?? h.body.slice(0, 200)}`);
  }
  return h.location;
}

/** The login form's action and hidden fields (the CSRF token). */
export function loginForm(pageUrl: string, html: string): { action: string; fields: Record<string, string> } {
  const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error(`login page: no form in ${html.slice(0, 200)}`);
  const fields: Record<string, string> = {};
  for (const [tag] of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]+)"/.exec(tag)?.[1];
    if (name) fields[name] = /value="([^"]*)"/.exec(tag)?.[1] ?? '';
  }
  if (!fields.csrf) throw new Error('login page: the form has no csrf field');
  return { action: new URL(form[1]!.replace(/&amp;/g, '&'), pageUrl).href, fields };
}

/** Form or query parameters, without the empty ones (an empty `resource` means none). */
const present = (params: Record<string, string>) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== ''));

async function tokenRequest(rp: RelyingParty, params: Record<string, string>): Promise<TokenResponse> {
  const res = await fetch(`${rp.issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(rp.clientId, rp.clientSecret), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: present(params),
  });
  const body = (await res.json()) as TokenResponse & { error?: string; error_description?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token (${params.grant_type}): HTTP ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
  return body;
}

/** An authorization request (PKCE S256) for `rp`, with the values its callback is checked against. */
function authorizationRequest(rp: RelyingParty): { url: string; verifier: string; state: string } {
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(12));
  const authorize = new URL(`${rp.issuer}/auth`);
  authorize.search = present({
    client_id: rp.clientId,
    response_type: 'code',
    scope: rp.scope,
    redirect_uri: rp.redirectUri,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state,
    nonce: b64url(randomBytes(12)),
    resource: rp.resource,
  }).toString();
  return { url: authorize.href, verifier, state };
}

/** A browser on the login page of a new interaction: its cookies and the form to post. */
export interface OpenLoginForm {
  jar: CookieJar;
  /** The form's absolute action URL (…/interaction/:uid/login). */
  action: string;
  /** The hidden fields, the CSRF token among them. */
  fields: Record<string, string>;
}

/** The first two steps of a sign-in: authorize → login page (CSRF field). */
export async function openLoginForm(rp: RelyingParty): Promise<OpenLoginForm> {
  const jar = new CookieJar();
  const interactionUrl = expectRedirect('authorize', await hop(jar, authorizationRequest(rp).url), '/interaction/');
  const page = await hop(jar, interactionUrl);
  if (page.status !== 200) throw new Error(`login page: HTTP ${page.status} ${page.body.slice(0, 200)}`);
  return { jar, ...loginForm(interactionUrl, page.body) };
}

/** The whole sign-in; returns the tokens and how long each step took. */
export async function loginFlow(rp: RelyingParty, user: Credentials, jar = new CookieJar()): Promise<{ tokens: TokenResponse; steps: Steps }> {
  const steps: Steps = {};
  let mark = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    steps[name] = now - mark;
    mark = now;
  };

  const { url, verifier, state } = authorizationRequest(rp);
  const interactionUrl = expectRedirect('authorize', await hop(jar, url), '/interaction/');
  lap('authorize');

  const page = await hop(jar, interactionUrl);
  if (page.status !== 200) throw new Error(`login page: HTTP ${page.status} ${page.body.slice(0, 200)}`);
  const form = loginForm(interactionUrl, page.body);
  lap('login page');

  const posted = await hop(jar, form.action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, username: user.username, password: user.password }),
  });
  const resumeUrl = expectRedirect('login POST (password check)', posted, '/auth/');
  lap('login POST');

  const callback = new URL(expectRedirect('resume', await hop(jar, resumeUrl), rp.redirectUri));
  if (callback.searchParams.get('state') !== state) throw new Error('callback: state mismatch');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`callback without code: ${callback.search}`);
  lap('resume → code');

  const tokens = await tokenRequest(rp, { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: verifier, resource: rp.resource });
  if (!tokens.id_token) throw new Error('token: no id_token');
  lap('code → token');
  return { tokens, steps };
}

/**
 * A code flow for a browser that already has a sign-on session: authorize redirects straight to
 * the callback with a code (no login page), which is redeemed for tokens.
 */
export async function ssoCodeFlow(rp: RelyingParty, jar: CookieJar): Promise<TokenResponse> {
  const { url, verifier, state } = authorizationRequest(rp);
  let h = await hop(jar, url);
  // oidc-provider may pass through its resume endpoint once before the callback.
  if (h.location?.includes('/auth/')) h = await hop(jar, h.location);
  const callback = new URL(expectRedirect('authorize (signed in)', h, rp.redirectUri));
  if (callback.searchParams.get('state') !== state) throw new Error('callback: state mismatch');
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`callback without code: ${callback.search}`);
  return tokenRequest(rp, { grant_type: 'authorization_code', code, redirect_uri: rp.redirectUri, code_verifier: verifier, resource: rp.resource });
}

/** One refresh-token grant; the answer carries the rotated refresh token. */
export async function refreshGrant(rp: RelyingParty, refreshToken: string): Promise<TokenResponse> {
  const tokens = await tokenRequest(rp, { grant_type: 'refresh_token', refresh_token: refreshToken, resource: rp.resource });
  if (!tokens.refresh_token) throw new Error('refresh: no rotated refresh_token in the answer');
  return tokens;
}
