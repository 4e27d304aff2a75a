// Signing in to the console: the tenant's ordinary sign-in as Caregate's built-in public client
// `console` — authorization code with PKCE (S256), a `state` bound to this tab, and an access token
// for the admin API (resource indicator). The token lives in this tab's sessionStorage only; when it
// expires the console goes through the sign-in again, which returns at once while the sign-on
// session lasts.
const KEY = 'caregate.console';

const config = () => document.body.dataset;
const base64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (size = 32) => base64url(crypto.getRandomValues(new Uint8Array(size)));
const sha256 = async (text) => base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));

export const consoleBase = () => `/t/${config().tenant}/admin`;
const redirectUri = () => `${config().issuer}/admin/callback`;

function stored() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? '{}');
  } catch {
    return {};
  }
}
const store = (value) => sessionStorage.setItem(KEY, JSON.stringify(value));

/** The access token for the admin API, if this tab holds one that has not expired. */
export function accessToken() {
  const { token, expiresAt } = stored();
  return token && expiresAt > Date.now() + 5_000 ? token : undefined;
}

/** Sends the browser to the tenant's sign-in; it comes back to /admin/callback, then to `returnTo`. */
export async function signIn(returnTo = location.pathname + location.search, { fresh = false } = {}) {
  const verifier = random(48);
  const state = random(24);
  store({ verifier, state, returnTo: returnTo.startsWith(consoleBase()) && !returnTo.startsWith(`${consoleBase()}/callback`) ? returnTo : consoleBase() });
  const params = new URLSearchParams({
    client_id: config().clientId,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: redirectUri(),
    resource: config().resource,
    code_challenge: await sha256(verifier),
    code_challenge_method: 'S256',
    state,
    ...(fresh ? { prompt: 'login' } : {}),
  });
  location.assign(`${config().issuer}/auth?${params}`);
}

/**
 * At /admin/callback: checks `state`, redeems the code with the verifier, keeps the token, and
 * returns where the person was going. Throws with the sign-in's own error when there is one.
 */
export async function completeSignIn() {
  const query = new URLSearchParams(location.search);
  const { verifier, state, returnTo } = stored();
  if (query.get('error')) throw new Error(query.get('error_description') || query.get('error'));
  if (!verifier || !state || query.get('state') !== state) throw new Error('This sign-in did not start in this tab. Sign in again.');
  // RFC 9207: the answer names who issued it; a code from another issuer is never redeemed here.
  if (query.has('iss') && query.get('iss') !== config().issuer) throw new Error('This sign-in answer came from another issuer. Sign in again.');
  const response = await fetch(`${config().issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: query.get('code') ?? '', redirect_uri: redirectUri(), client_id: config().clientId, code_verifier: verifier, resource: config().resource }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token) throw new Error(body.error_description || 'The sign-in could not be completed. Sign in again.');
  store({ token: body.access_token, idToken: body.id_token, expiresAt: Date.now() + (body.expires_in ?? 300) * 1000 });
  return returnTo || consoleBase();
}

/** Ends the console's token in this tab and the person's sign-on session (RP-initiated logout). */
export async function signOut() {
  const { token, idToken } = stored();
  sessionStorage.removeItem(KEY);
  if (token) {
    await fetch(`${config().issuer}/token/revocation`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: config().clientId }),
    }).catch(() => undefined);
  }
  const params = new URLSearchParams({ client_id: config().clientId, post_logout_redirect_uri: `${config().issuer}/admin/signed-out`, ...(idToken ? { id_token_hint: idToken } : {}) });
  location.assign(`${config().issuer}/session/end?${params}`);
}

/** Forgets the token (it was refused): the next call signs in again. */
export function forgetToken() {
  sessionStorage.removeItem(KEY);
}
