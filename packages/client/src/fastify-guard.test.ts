// fastifyGuard on a fake Fastify request/reply: a refusal sends and returns the reply (which ends
// an async hook), a pass sets request.caregate and returns nothing.
import { describe, expect, it } from '@jest/globals';
import { fastifyGuard, type FastifyLikeRequest } from './fastify-guard.ts';
import { fakeVerifier } from './testing/fake-verifier.ts';

function fakeReply() {
  const reply = {
    statusCode: 200, headers: {} as Record<string, string>, sent: undefined as unknown,
    code(status: number) { reply.statusCode = status; return reply; },
    header(name: string, value: string) { reply.headers[name.toLowerCase()] = value; return reply; },
    send(payload?: unknown) { reply.sent = payload; return reply; },
  };
  return reply;
}

describe('fastifyGuard', () => {
  it('sends 401 and returns the reply without a token', async () => {
    const reply = fakeReply();
    expect(await fastifyGuard(fakeVerifier())({ headers: {} }, reply)).toBe(reply);
    expect(reply.statusCode).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('Bearer realm="urn:caregate:app:chart"');
    expect(reply.sent).toEqual({ error_description: 'A Bearer access token is required' });
  });

  it('sends 403 insufficient_scope without the permission', async () => {
    const reply = fakeReply();
    await fastifyGuard(fakeVerifier(), { permission: 'reports:export' })({ headers: { authorization: 'Bearer good-token' } }, reply);
    expect(reply.statusCode).toBe(403);
    expect(reply.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('sets request.caregate and returns nothing with the permission, in the route context', async () => {
    const request: FastifyLikeRequest & { params: unknown } = { headers: { authorization: 'Bearer good-token' }, params: { site: 'loc-north' } };
    const reply = fakeReply();
    const guard = fastifyGuard(fakeVerifier(), { permission: 'schedule:approve', context: (r) => ({ location: r.params.site }) });
    expect(await guard(request, reply)).toBeUndefined();
    expect(reply.sent).toBeUndefined();
    expect(request.caregate?.claims.sub).toBe('user-1');
  });

  it('rejects when the JWKS cannot be reached, for Fastify to answer as a server error', async () => {
    await expect(fastifyGuard(fakeVerifier())({ headers: { authorization: 'Bearer jwks-down' } }, fakeReply())).rejects.toThrow('fetch failed');
  });
});
