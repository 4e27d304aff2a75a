// A tiny Koa app around src/mfa/webauthn.ts for the real-browser passkey tests: a registration
// page and a sign-in page built the way Caregate's pages are (hidden options/response inputs,
// views/assets/webauthn.js, CSP without inline script), passkeys kept in a Map.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { createMemoryStore } from '../../src/ephemeral/memory-store.ts';
import { createWebAuthn, type PasskeyRecord, type RelyingParty } from '../../src/mfa/webauthn.ts';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

export interface StoredPasskey extends PasskeyRecord {
  userId: string;
}

export interface WebAuthnTestServer {
  origin: string;
  rp: RelyingParty;
  /** Passkeys by credential id, as a user table would hold them. */
  passkeys: Map<string, StoredPasskey>;
  /** The raw `response` field of each POST, by flow id (to replay it). */
  posted: Map<string, string>;
  /** Starts a sign-in flow without a page, as a second tab would. */
  startAuthentication(userId?: string): Promise<{ flowId: string; options: unknown }>;
  close(): Promise<void>;
}

const script = readFileSync(path.join(import.meta.dirname, '../../views/assets/webauthn.js'));
export const DANA = { id: 'a3e1c7d2-5b0f-4c4e-9a61-2f8d0e7b9c11', username: 'dana', displayName: 'Dana Scully' };
const USERS: Record<string, typeof DANA> = { dana: DANA };

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<script src="/assets/webauthn.js" defer></script></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function form(mode: 'register' | 'authenticate', action: string, options: unknown): string {
  return `<div data-webauthn-error hidden></div>
<form method="post" action="${escape(action)}" data-webauthn="${mode}">
  <input type="hidden" name="options" value="${escape(JSON.stringify(options))}">
  <input type="hidden" name="response" value="">
  <button type="submit">${mode === 'register' ? 'Add a passkey' : 'Sign in with a passkey'}</button>
</form>`;
}

const result = (value: unknown) => page('Result', `<output id="result">${escape(JSON.stringify(value))}</output>`);

export async function startWebAuthnTestServer(): Promise<WebAuthnTestServer> {
  const ephemeral = createMemoryStore();
  const webauthn = createWebAuthn(ephemeral);
  const passkeys = new Map<string, StoredPasskey>();
  const posted = new Map<string, string>();
  const rp: RelyingParty = { id: 'localhost', name: 'Caregate test', origin: '' };
  const ownedBy = (userId: string) => [...passkeys.values()].filter((p) => p.userId === userId);

  const router = new Router();
  router.get('/assets/webauthn.js', (ctx) => {
    ctx.type = 'text/javascript';
    ctx.body = script;
  });
  // Registration for a known user; existing passkeys are excluded.
  router.get('/register/:user', async (ctx) => {
    const user = USERS[ctx.params.user!];
    if (!user) return ctx.throw(404);
    const flowId = randomUUID();
    const options = await webauthn.registrationOptions(rp, user, ownedBy(user.id), flowId);
    ctx.type = 'html';
    ctx.body = page('Add a passkey', form('register', `/register/${user.username}/${flowId}`, options));
  });
  router.post('/register/:user/:flow', async (ctx) => {
    const user = USERS[ctx.params.user!]!;
    const raw = String((ctx.request.body as Record<string, unknown>).response ?? '');
    posted.set(ctx.params.flow!, raw);
    const record = await webauthn.verifyRegistration(rp, ctx.params.flow!, parse(raw));
    if (record) passkeys.set(record.credentialId, { ...record, userId: user.id });
    ctx.status = record ? 200 : 400;
    ctx.type = 'html';
    ctx.body = result(record ? { ok: true, record } : { ok: false });
  });
  // Sign-in: /authenticate/dana allows dana's passkeys; /authenticate alone is passwordless.
  const signInPage = async (ctx: Koa.Context) => {
    const { flowId, options } = await startAuthentication(ctx.params.user ? USERS[ctx.params.user]?.id : undefined);
    ctx.type = 'html';
    ctx.body = page('Sign in', form('authenticate', `/authenticate-flow/${flowId}`, options));
  };
  router.get('/authenticate', signInPage);
  router.get('/authenticate/:user', signInPage);
  router.post('/authenticate-flow/:flow', async (ctx) => {
    const raw = String((ctx.request.body as Record<string, unknown>).response ?? '');
    posted.set(ctx.params.flow!, raw);
    const outcome = await webauthn.verifyAuthentication(rp, ctx.params.flow!, parse(raw), async (id) => passkeys.get(id));
    const passkey = outcome && passkeys.get(outcome.credentialId);
    if (passkey) passkey.counter = outcome.newCounter;
    ctx.status = outcome ? 200 : 400;
    ctx.type = 'html';
    ctx.body = result(outcome ? { ok: true, ...outcome } : { ok: false });
  });

  async function startAuthentication(userId?: string) {
    const flowId = randomUUID();
    return { flowId, options: await webauthn.authenticationOptions(rp, userId ? ownedBy(userId) : [], flowId) };
  }

  const app = new Koa();
  app.use(async (ctx, next) => {
    ctx.set('Content-Security-Policy', CSP);
    await next();
  });
  app.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }));
  app.use(router.routes()).use(router.allowedMethods());

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  rp.origin = origin;

  return {
    origin,
    rp,
    passkeys,
    posted,
    startAuthentication,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ephemeral.close();
    },
  };
}

function parse(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
