// guardRequest: the RFC 6750 answers every guard gives — who the caller is, or 400/401/403 with
// the WWW-Authenticate challenge that says why.
import { describe, expect, it } from '@jest/globals';
import { bearerChallenge, guardRequest, type GuardOutcome } from './guard-request.ts';
import { claims, fakeVerifier } from './testing/fake-verifier.ts';

const refused = (outcome: GuardOutcome) => {
  if (outcome.allowed) throw new Error('the request was allowed');
  return outcome;
};

describe('guardRequest: no token', () => {
  it('answers 401 with a bare challenge (no error code) when there is no Authorization header', async () => {
    const outcome = refused(await guardRequest(fakeVerifier(), undefined));
    expect(outcome.status).toBe(401);
    expect(outcome.challenge).toBe('Bearer realm="urn:caregate:app:chart"');
    expect(outcome.body).not.toHaveProperty('error');
  });

  it('treats an empty header and another scheme (Basic) as no Bearer token', async () => {
    for (const header of ['', '   ', 'Basic dXNlcjpwYXNz', 'Bearertoken']) {
      const outcome = refused(await guardRequest(fakeVerifier(), header));
      expect([outcome.status, outcome.challenge]).toEqual([401, 'Bearer realm="urn:caregate:app:chart"']);
    }
  });
});

describe('guardRequest: malformed header', () => {
  it('answers 400 invalid_request for "Bearer" with no token, two tokens, or characters a token cannot hold — without verifying anything', async () => {
    const verify = fakeVerifier();
    for (const header of ['Bearer', 'Bearer ', 'Bearer good-token extra', 'Bearer good"token', 'Bearer =abc', 'Bearer tok,en']) {
      const outcome = refused(await guardRequest(verify, header));
      expect(outcome.status).toBe(400);
      expect(outcome.challenge).toBe('Bearer realm="urn:caregate:app:chart", error="invalid_request", error_description="The Authorization header is malformed"');
      expect(outcome.body.error).toBe('invalid_request');
    }
    expect(verify.asked).toEqual([]);
  });
});

describe('guardRequest: invalid token', () => {
  it('answers 401 invalid_token for a token that does not verify', async () => {
    const outcome = refused(await guardRequest(fakeVerifier(), 'Bearer forged-token'));
    expect(outcome.status).toBe(401);
    expect(outcome.challenge).toBe('Bearer realm="urn:caregate:app:chart", error="invalid_token", error_description="The access token is not valid"');
    expect(outcome.body).toEqual({ error: 'invalid_token', error_description: 'The access token is not valid' });
  });

  it('says when the token expired, so the client knows to get a new one', async () => {
    const outcome = refused(await guardRequest(fakeVerifier(), 'Bearer expired-token'));
    expect(outcome.challenge).toContain('error="invalid_token", error_description="The access token expired"');
  });

  it('throws, instead of blaming the token, when the verifier fails for another reason (JWKS unreachable)', async () => {
    await expect(guardRequest(fakeVerifier(), 'Bearer jwks-down')).rejects.toThrow('fetch failed');
  });
});

describe('guardRequest: permission', () => {
  it('allows any valid token when the route names no permission, and exposes the principal', async () => {
    const outcome = await guardRequest(fakeVerifier(), 'Bearer good-token');
    if (!outcome.allowed) throw new Error('refused');
    expect(outcome.principal.claims).toBe(claims);
    expect(outcome.principal.token).toBe('good-token');
    expect(outcome.principal.can('reports:read')).toBe(true);
    expect(outcome.principal.can('schedule:approve', { location: 'loc-north' })).toBe(true);
    expect(outcome.principal.can('reports:export')).toBe(false);
  });

  it('reads the scheme case-insensitively', async () => {
    expect((await guardRequest(fakeVerifier(), 'bearer good-token')).allowed).toBe(true);
    expect((await guardRequest(fakeVerifier(), 'BEARER   good-token')).allowed).toBe(true);
  });

  it('allows a token that holds the route permission', async () => {
    expect((await guardRequest(fakeVerifier(), 'Bearer good-token', { permission: 'reports:read' })).allowed).toBe(true);
  });

  it('answers 403 insufficient_scope for a valid token without the permission', async () => {
    const outcome = refused(await guardRequest(fakeVerifier(), 'Bearer good-token', { permission: 'reports:export' }));
    expect(outcome.status).toBe(403);
    expect(outcome.challenge).toBe('Bearer realm="urn:caregate:app:chart", error="insufficient_scope", error_description="The access token does not grant this action"');
    expect(outcome.body.error).toBe('insufficient_scope');
  });

  it('decides the permission in the given context', async () => {
    const at = (location: string) => guardRequest(fakeVerifier(), 'Bearer good-token', { permission: 'schedule:approve', context: { location } });
    expect((await at('loc-north')).allowed).toBe(true);
    expect(refused(await at('loc-south')).status).toBe(403);
  });
});

describe('bearerChallenge', () => {
  it('uses the realm given instead of the audience', async () => {
    expect(refused(await guardRequest(fakeVerifier(), undefined, { realm: 'chart' })).challenge).toBe('Bearer realm="chart"');
  });

  it('escapes quotes and backslashes in the realm and drops control characters, so the header cannot be split or extended', () => {
    expect(bearerChallenge('a"b\\c\r\nSet-Cookie: x=1')).toBe('Bearer realm="a\\"b\\\\cSet-Cookie: x=1"');
    expect(bearerChallenge('x", error="invalid_token')).toBe('Bearer realm="x\\", error=\\"invalid_token"');
  });

  it('builds the challenge a handler sends when its own can() refuses', () => {
    expect(bearerChallenge('chart', 'insufficient_scope')).toBe('Bearer realm="chart", error="insufficient_scope"');
  });
});
