// koaGuard on a fake Koa context: refusals set status, challenge and body and stop the chain; a
// pass sets ctx.state.caregate and awaits next; other failures throw to Koa's error handling.
import { describe, expect, it } from '@jest/globals';
import { koaGuard } from './koa-guard.ts';
import { fakeVerifier } from './testing/fake-verifier.ts';

function fakeContext(authorization?: string, params: Record<string, string> = {}) {
  const headers: Record<string, string> = {};
  return {
    status: 404, body: undefined as unknown, state: {} as Record<string, unknown>, headers, params,
    get: (field: string) => (field.toLowerCase() === 'authorization' ? authorization ?? '' : ''),
    set(field: string, value: string) { headers[field.toLowerCase()] = value; },
  };
}

describe('koaGuard', () => {
  it('answers 401 without a token and does not call next', async () => {
    const ctx = fakeContext();
    let nextCalled = false;
    await koaGuard(fakeVerifier())(ctx, async () => { nextCalled = true; });
    expect(nextCalled).toBe(false);
    expect(ctx.status).toBe(401);
    expect(ctx.headers['www-authenticate']).toBe('Bearer realm="urn:caregate:app:chart"');
    expect(ctx.body).toEqual({ error_description: 'A Bearer access token is required' });
  });

  it('answers 401 invalid_token for a forged token', async () => {
    const ctx = fakeContext('Bearer forged-token');
    await koaGuard(fakeVerifier())(ctx, async () => {});
    expect(ctx.status).toBe(401);
    expect(ctx.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  it('answers 403 without the permission', async () => {
    const ctx = fakeContext('Bearer good-token');
    await koaGuard(fakeVerifier(), { permission: 'reports:export' })(ctx, async () => {});
    expect(ctx.status).toBe(403);
    expect(ctx.body).toMatchObject({ error: 'insufficient_scope' });
  });

  it('sets ctx.state.caregate and awaits the rest of the chain with the permission, in the route context', async () => {
    const ctx = fakeContext('Bearer good-token', { site: 'loc-north' });
    const guard = koaGuard(fakeVerifier(), { permission: 'schedule:approve', context: (c) => ({ location: c.params?.site }) });
    await guard(ctx, async () => { ctx.status = 200; });
    expect(ctx.status).toBe(200);
    expect((ctx.state.caregate as { claims: { sub: string } }).claims.sub).toBe('user-1');
  });

  it('throws when the JWKS cannot be reached, for Koa to answer as a server error', async () => {
    await expect(koaGuard(fakeVerifier())(fakeContext('Bearer jwks-down'), async () => {})).rejects.toThrow('fetch failed');
  });
});
