// @caregate/client as a relying-app developer gets it: packed, installed from the tarball into a
// fresh project, and the READMEs' Express, Koa, Fastify, node:http and fetch-handler examples run
// against a running Caregate with real client-credentials access tokens.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startTestCaregate, type TestCaregate } from '../../support/caregate.ts';
import { createRelyingProject, examples, PACKAGE_DIR, type RelyingProject } from './relying-project.ts';

const cli = { type: 'cli' as const, id: 'test' };
const AUDIENCE = 'https://reports.example/api';
const SERVERS = ['express.mjs', 'koa.mjs', 'fastify.mjs', 'node-http.mjs'];

let cg: TestCaregate;
let project: RelyingProject;
let env: Record<string, string>;
let token: string;
let otherAppToken: string;
let serviceAccount: string;
const apps = new Map<string, { url: string; stop(): void }>();

async function clientCredentialsToken(clientId: string, clientSecret: string): Promise<string> {
  const res = await fetch(`${cg.issuer()}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  const body = (await res.json()) as { access_token: string };
  expect(res.status).toBe(200);
  return body.access_token;
}

beforeAll(async () => {
  cg = await startTestCaregate();
  const applications = cg.runtime.accounts.applications;
  // The API: its service account holds report_viewer (reports:read); its catalogue also has reports:export.
  const api = await applications.create('demo', { name: 'Reports API', grantTypes: ['client_credentials'], resource: AUDIENCE, serviceRoles: ['report_viewer'], permissions: ['reports:read', 'reports:export'] }, cli);
  const other = await applications.create('demo', { name: 'Other API', grantTypes: ['client_credentials'], serviceRoles: ['report_viewer'], permissions: ['reports:read'] }, cli);
  token = await clientCredentialsToken(api.client_id, api.client_secret!);
  otherAppToken = await clientCredentialsToken(other.client_id, other.client_secret!);
  serviceAccount = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub;

  const files = await examples(path.join(PACKAGE_DIR, 'README.md'));
  project = await createRelyingProject(files, ['express@5', 'koa@3', '@koa/router@15', 'fastify@5']);
  env = { CAREGATE_ISSUER: cg.issuer(), CAREGATE_AUDIENCE: AUDIENCE };
  for (const file of SERVERS) apps.set(file, await project.start(file, env));
}, 300_000);

afterAll(async () => {
  await project?.cleanup();
  await cg?.close();
});

const get = (file: string, route: string, authorization?: string, method = 'GET') =>
  fetch(`${apps.get(file)!.url}${route}`, { method, headers: authorization ? { authorization } : {} });

describe('the package a developer installs', () => {
  it('is the README examples, the same in the root README as in the package README', async () => {
    const root = await examples(path.resolve(PACKAGE_DIR, '../../README.md'));
    const own = await examples(path.join(PACKAGE_DIR, 'README.md'));
    expect([...root.keys()]).toEqual(['express.mjs', 'koa.mjs', 'fastify.mjs']);
    for (const [name, source] of root) expect(source).toBe(own.get(name));
  });

  it('brings jose and nothing else, and its code imports no Node module (it must run on edge runtimes)', async () => {
    const installed = path.join(project.dir, 'node_modules/@caregate/client');
    const manifest = JSON.parse(await readFile(path.join(installed, 'package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['jose']);
    const code = (await readdir(path.join(installed, 'dist'))).filter((f) => f.endsWith('.js'));
    expect(code).toContain('index.js');
    for (const file of code) {
      const source = await readFile(path.join(installed, 'dist', file), 'utf8');
      expect(source).not.toMatch(/from\s+['"]node:|require\(|\bprocess\.|\bBuffer\b/);
    }
    expect(await readdir(path.join(installed, 'dist'))).toContain('index.d.ts');
  });

  it('gets a JWT access token from Caregate for the API (typ at+jwt, audience the API)', () => {
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ aud: AUDIENCE, iss: cg.issuer(), permissions: ['reports:read'] });
  });
});

describe.each(SERVERS)('the %s example', (file) => {
  it('answers 200 and sees the caller with a token that grants the permission', async () => {
    const res = await get(file, '/reports', `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ reader: serviceAccount });
  });

  it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
    const res = await get(file, '/reports');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}"`);
  });

  it('answers 401 invalid_token for a token whose payload was changed to claim more', async () => {
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, permissions: ['reports:read', 'reports:export'] })).toString('base64url')}.${signature}`;
    const res = await get(file, '/reports', `Bearer ${forged}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="invalid_token", error_description="The access token is not valid"`);
  });

  it('answers 401 invalid_token for a genuine Caregate token issued for another API of the tenant', async () => {
    const res = await get(file, '/reports', `Bearer ${otherAppToken}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('answers 400 invalid_request for a malformed Authorization header', async () => {
    const res = await get(file, '/reports', `Bearer ${token} ${token}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_request"');
  });
});

describe.each(['express.mjs', 'koa.mjs', 'fastify.mjs'])('the %s example, on a route the token does not grant', (file) => {
  it('answers 403 insufficient_scope', async () => {
    const res = await get(file, '/reports/export', `Bearer ${token}`, 'POST');
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${AUDIENCE}", error="insufficient_scope", error_description="The access token does not grant this action"`);
    expect(await res.json()).toEqual({ error: 'insufficient_scope', error_description: 'The access token does not grant this action' });
  });
});

describe('the fetch-handler (edge) example', () => {
  it('answers Web Requests with Web Responses: 200, 401 without a token, 401 for another API\'s token', async () => {
    const driver = `
      import handler from './edge.mjs';
      const ask = async (authorization) => {
        const res = await handler.fetch(new Request('https://reports.example/reports', { headers: authorization ? { authorization } : {} }));
        return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() };
      };
      console.log(JSON.stringify([await ask('Bearer ' + process.env.TOKEN), await ask(), await ask('Bearer ' + process.env.OTHER_TOKEN)]));
    `;
    await writeFile(path.join(project.dir, 'edge-driver.mjs'), driver);
    const [good, none, other] = JSON.parse(await project.node('edge-driver.mjs', { ...env, TOKEN: token, OTHER_TOKEN: otherAppToken }));
    expect(good).toEqual({ status: 200, challenge: null, body: { reader: serviceAccount } });
    expect(none).toMatchObject({ status: 401, challenge: `Bearer realm="${AUDIENCE}"` });
    expect(other.status).toBe(401);
    expect(other.challenge).toContain('error="invalid_token"');
  });
});
