// Server-rendered pages from views/*.eta. Output is HTML-escaped unless a template opts out.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';

export type Render = (name: string, data: Record<string, unknown>) => string;

export const viewsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../views');

export function createViews(dir = viewsDir): Render {
  const eta = new Eta({ views: dir, autoEscape: true, cache: true, useWith: false });
  return (name, data) => eta.render(name, data);
}
