// expressGuard on fakes of Express's req/res (the same shape node:http has): refusals end the
// response and stop the chain, a pass sets req.caregate, other failures go to next(error).
import { describe, expect, it } from '@jest/globals';
import { expressGuard, type ExpressLikeRequest } from './express-guard.ts';
import { fakeVerifier } from './testing/fake-verifier.ts';

interface Recorded { statusCode: number; headers: Record<string, string>; body?: string }

/** Runs the guard on `req`; settles when it ends the response or calls next (with its arguments). */
function run(guard: ReturnType<typeof expressGuard<any>>, req: ExpressLikeRequest & Record<string, unknown>) {
  return new Promise<{ res: Recorded; next?: unknown[] }>((resolve) => {
    const res = {
      statusCode: 200, headers: {} as Record<string, string>, body: undefined as string | undefined,
      setHeader: (name: string, value: string) => { res.headers[name.toLowerCase()] = value; },
      end: (chunk: string) => { res.body = chunk; resolve({ res }); },
    };
    guard(req, res, (...args: unknown[]) => resolve({ res, next: args }));
  });
}

describe('expressGuard', () => {
  it('answers 401 with the challenge and a JSON body, and does not call next, without a token', async () => {
    const { res, next } = await run(expressGuard(fakeVerifier()), { headers: {} });
    expect(next).toBeUndefined();
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="urn:caregate:app:chart"');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.body!)).toEqual({ error_description: 'A Bearer access token is required' });
  });

  it('answers 403 insufficient_scope without calling next', async () => {
    const { res, next } = await run(expressGuard(fakeVerifier(), { permission: 'reports:export' }), { headers: { authorization: 'Bearer good-token' } });
    expect(next).toBeUndefined();
    expect(res.statusCode).toBe(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('sets req.caregate and calls next() with nothing when the token grants the permission', async () => {
    const req: ExpressLikeRequest & Record<string, unknown> = { headers: { authorization: 'Bearer good-token' } };
    const { next } = await run(expressGuard(fakeVerifier(), { permission: 'reports:read' }), req);
    expect(next).toEqual([]);
    expect(req.caregate?.claims.sub).toBe('user-1');
  });

  it('reads the context from the request', async () => {
    const guard = expressGuard(fakeVerifier(), { permission: 'schedule:approve', context: (req) => ({ location: req.params.site }) });
    expect((await run(guard, { headers: { authorization: 'Bearer good-token' }, params: { site: 'loc-north' } })).next).toEqual([]);
    expect((await run(guard, { headers: { authorization: 'Bearer good-token' }, params: { site: 'loc-south' } })).res.statusCode).toBe(403);
  });

  it('passes a failure that is not the token\'s (JWKS unreachable, a throwing context) to next(error)', async () => {
    const down = await run(expressGuard(fakeVerifier()), { headers: { authorization: 'Bearer jwks-down' } });
    expect(String(down.next?.[0])).toMatch(/fetch failed/);
    const throwing = expressGuard(fakeVerifier(), { permission: 'reports:read', context: () => { throw new Error('no site'); } });
    expect(String((await run(throwing, { headers: { authorization: 'Bearer good-token' } })).next?.[0])).toMatch(/no site/);
  });
});
