// The shape of src/ (DESIGN.md, "Layout"): a folder imports another folder only through its
// index.ts, and no chain of imports between folders leads back to where it started. Files directly
// in src/ (app.ts, errors.ts, …) count as folders of their own. Imports are read with TypeScript's
// own scanner (ts.preProcessFile): static and type-only imports, re-exports and import() alike, with
// no build and no type check, so the whole tree is read in well under a second.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

interface Import {
  from: string;
  to: string;
}

/** Every import from one file of src/ to another, as paths relative to src/. */
function importsOf(root: string): Import[] {
  const files = (readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.ts'));
  return files.flatMap((file) =>
    ts
      .preProcessFile(readFileSync(join(root, file), 'utf8'), true, true)
      .importedFiles.filter(({ fileName }) => fileName.startsWith('.'))
      .map(({ fileName }) => ({ from: file, to: relative(root, resolve(root, dirname(file), fileName)) }))
      .filter(({ to }) => !to.startsWith('..')),
  );
}

/** The folder a file belongs to: its first path segment (a file directly in src/ is its own). */
const folderOf = (file: string) => file.split(sep)[0];

/** Imports that reach into another folder past its index.ts. */
function pastTheIndex(imports: Import[]): string[] {
  return imports
    .filter(({ from, to }) => folderOf(from) !== folderOf(to) && to.includes(sep) && to !== join(folderOf(to), 'index.ts'))
    .map(({ from, to }) => `${from} imports ${to}, not ${join(folderOf(to), 'index.ts')}`);
}

/** Folder → folder → the imports that make the edge. */
function folderGraph(imports: Import[]): Map<string, Map<string, Import[]>> {
  const graph = new Map<string, Map<string, Import[]>>();
  for (const i of imports) {
    const [a, b] = [folderOf(i.from), folderOf(i.to)];
    if (a === b) continue;
    const edges = graph.get(a) ?? graph.set(a, new Map()).get(a)!;
    edges.set(b, [...(edges.get(b) ?? []), i]);
  }
  return graph;
}

/** Groups of folders that import each other in a cycle (strongly connected components, Tarjan). */
function folderCycles(graph: Map<string, Map<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) visit(w);
      if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, low.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group = stack.splice(stack.indexOf(v));
    if (group.length > 1) cycles.push(group.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** A cycle told as the imports between its folders, one example each, so it can be found. */
function describeCycle(group: string[], graph: Map<string, Map<string, Import[]>>): string {
  const edges = group.flatMap((a) => group.flatMap((b) => graph.get(a)?.get(b)?.slice(0, 1) ?? []));
  return [`${group.join(', ')}:`, ...edges.map(({ from, to }) => `  ${from} → ${to}`)].join('\n');
}

describe('the import graph of src/', () => {
  const imports = importsOf(SRC);
  const graph = folderGraph(imports);

  it('is read: it has the imports it is known to have', () => {
    expect(imports.length).toBeGreaterThan(500);
    expect([...(graph.get('saml-idp')?.keys() ?? [])]).toEqual(expect.arrayContaining(['saml', 'oidc', 'storage']));
  });

  it('reaches another folder only through its index.ts', () => {
    expect(pastTheIndex(imports)).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    expect(folderCycles(graph).map((group) => describeCycle(group, graph))).toEqual([]);
  });

  it('finds a cycle through several folders, and none in a layered graph', () => {
    const edges = (pairs: string[][]) => {
      const graph = new Map<string, Map<string, true>>();
      for (const [a, b] of pairs) (graph.get(a) ?? graph.set(a, new Map()).get(a)!).set(b, true);
      return graph;
    };
    expect(folderCycles(edges([['storage', 'saml'], ['saml', 'oidc'], ['oidc', 'storage'], ['app.ts', 'oidc']]))).toEqual([['oidc', 'saml', 'storage']]);
    expect(folderCycles(edges([['saml-idp', 'saml'], ['saml-idp', 'oidc'], ['oidc', 'saml'], ['oidc', 'storage']]))).toEqual([]);
  });
});
