// Live decisions (bench/run.ts --decisions, and a row of every full run): decisions per second on
// one core through the evaluation endpoint (POST {issuer}/access/v1/evaluation, the Bench Web
// application authenticating with HTTP Basic, asking whether the bench user may reports:read),
// against the floor of the same evaluator called in-process in a child pinned to the same core
// (bench/decision-floor.ts). Both answer "yes", so both run the whole evaluation.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { basicAuth } from './client-credentials.ts';
import { measureRequest, type HttpRequest, type Load } from './http-load.ts';
import { runNode } from './processes.ts';
import type { Figure } from './stats.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export interface DecisionTarget {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The user asked about (the bench user's id). */
  subject: string;
}

function request(target: DecisionTarget): HttpRequest {
  return {
    url: `${target.issuer}/access/v1/evaluation`,
    method: 'POST',
    headers: { authorization: basicAuth(target.clientId, target.clientSecret), 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ subject: { type: 'user', id: target.subject }, action: { name: 'reports:read' }, resource: { type: 'report', id: 'monthly' } }),
  };
}

/** One decision first, so a misconfiguration fails loudly instead of measuring refusals. */
export async function checkDecision(target: DecisionTarget): Promise<void> {
  const r = request(target);
  const res = await fetch(r.url, r);
  const text = await res.text();
  if (res.status !== 200 || (JSON.parse(text) as { decision?: unknown }).decision !== true) throw new Error(`POST ${r.url}: HTTP ${res.status} ${text.slice(0, 200)} (expected {"decision":true})`);
}

export function measureDecisions(target: DecisionTarget, load: Load): Promise<Figure> {
  return measureRequest(request(target), load);
}

/** The in-process floor, in a child on the server core. */
export async function decisionFloor(load: { seconds: number; warmupSeconds: number }, cpu: number | undefined): Promise<Figure> {
  const out = await runNode([path.join(HERE, 'decision-floor.ts'), String(load.seconds), String(load.warmupSeconds)], { env: process.env, cpu });
  return JSON.parse(out) as Figure;
}
