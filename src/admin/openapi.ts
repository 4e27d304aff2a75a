// The OpenAPI 3.1 document, generated from the route declarations (zod → JSON Schema).
import { z } from 'zod';
import type { AdminRoute } from './define-route.ts';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'input') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' });

const error = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: { error: { type: 'string' }, error_description: { type: 'string' }, details: { type: 'object' } },
};

export function buildOpenApi(routes: AdminRoute[], baseUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `/v1/t/{tenant}${route.path}`;
    const params = [
      { name: 'tenant', in: 'path', required: true, schema: { type: 'string' } },
      ...Object.keys((route.params as z.ZodObject | undefined)?.shape ?? {}).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries((route.query as z.ZodObject | undefined)?.shape ?? {}).map(([name, s]) => ({ name, in: 'query', required: false, schema: jsonSchema(s as z.ZodType) })),
    ];
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      operationId: `${route.method}${route.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
      security: [{ bearer: [] }],
      'x-required-permission': route.permission,
      'x-scoped': Boolean(route.scoped),
      parameters: params,
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body) } } } } : {}),
      responses: {
        [String(route.status ?? 200)]: { description: 'Success' },
        400: { description: 'Invalid input', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        401: { description: 'Missing or invalid access token', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ...(route.permission ? { 403: { description: `Token lacks "${route.permission}"`, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } } } : {}),
        404: { description: 'Tenant or resource not found', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        409: { description: 'Conflict (duplicate)', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Caregate admin API', version: '1.0.0', description: 'Manage users, roles, assignments, locations, institutions, teams and applications of a tenant. Every change is audited.' },
    servers: [{ url: `${baseUrl}/admin/api` }],
    components: {
      securitySchemes: {
        // No bearerFormat: admin tokens are opaque (only the issuer can read, introspect or revoke them).
        bearer: { type: 'http', scheme: 'bearer', description: `An opaque access token from the tenant's issuer for resource ${baseUrl}/admin/api, carrying the route's permission; revoke it at {issuer}/token/revocation.` },
      },
      schemas: { Error: error },
    },
    paths,
  };
}
