// Admin routes are declared, not just written: method, path, permission and zod shapes. The same
// declaration validates requests and generates the OpenAPI document (CONVENTIONS point 8).
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Actor } from '../accounts/index.ts';

export interface AdminRequest<P, B, Q> {
  tenant: string;
  params: P;
  body: B;
  query: Q;
  actor: Actor;
  ctx: Context;
}

export interface AdminRoute<P = any, B = any, Q = any> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Path below /admin/api/v1/t/{tenant}, with `{name}` parameters. */
  path: string;
  summary: string;
  /** The admin permission the caller needs; null: any active caller of the tenant (what it reads is about the caller). */
  permission: string | null;
  /**
   * The route's service bounds what it reads or changes by the caller's scope (a location, an
   * institution, an application), so a caller holding the permission only there may call it.
   * Otherwise the permission must be held tenant-wide.
   */
  scoped?: boolean;
  params?: z.ZodType<P>;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  status?: number;
  handler(req: AdminRequest<P, B, Q>): Promise<unknown>;
}

export function defineRoute<P = Record<string, string>, B = undefined, Q = Record<string, string>>(route: AdminRoute<P, B, Q>): AdminRoute<P, B, Q> {
  return route;
}
