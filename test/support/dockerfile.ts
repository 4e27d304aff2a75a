// Reads the repository's Dockerfile and .dockerignore as Docker would, for tests that check the
// image without a Docker daemon: stages, COPY sources and destinations, ENV, CMD and HEALTHCHECK.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Copy {
  from?: string;
  sources: string[];
  dest: string;
}

export interface Stage {
  name?: string;
  image: string;
  workdir: string;
  env: Record<string, string>;
  copies: Copy[];
  runs: string[];
  cmd?: string[];
  healthcheck?: string[];
}

/** The instruction's arguments as a JSON array (exec form) or split on white space (shell form). */
function words(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/).filter(Boolean);
}

export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = keyword.toUpperCase();
    if (instruction === 'FROM') {
      const [image = '', , name] = rest.split(/\s+/);
      stages.push({ image, name, workdir: '/', env: { ...stages.at(-1)?.env }, copies: [], runs: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${instruction} before FROM`);
    if (instruction === 'WORKDIR') stage.workdir = path.posix.resolve(stage.workdir, rest);
    else if (instruction === 'RUN') stage.runs.push(rest);
    else if (instruction === 'CMD') stage.cmd = words(rest);
    else if (instruction === 'HEALTHCHECK') stage.healthcheck = words(rest.slice(rest.indexOf('CMD') + 3).trim());
    else if (instruction === 'ENV') for (const [, k, v] of rest.matchAll(/(\w+)=("[^"]*"|\S*)/g)) stage.env[k!] = v!.replace(/^"|"$/g, '');
    else if (instruction === 'COPY' || instruction === 'ADD') {
      const [, flags = '', args = ''] = /^((?:--\S+\s+)*)(.*)$/.exec(rest) ?? [];
      const parts = words(args);
      const from = /--from=(\S+)/.exec(flags)?.[1];
      stage.copies.push({ from, sources: parts.slice(0, -1), dest: path.posix.resolve(stage.workdir, parts.at(-1)!) + (parts.at(-1)!.endsWith('/') ? '/' : '') });
    }
  }
  return stages;
}

/** A .dockerignore as a predicate: true when `file` (relative to the context, with /) stays out of the build context. */
export function dockerIgnore(root: string): (file: string) => boolean {
  const file = path.join(root, '.dockerignore');
  const patterns = existsSync(file)
    ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => ({ negate: l.startsWith('!'), glob: path.posix.normalize(l.replace(/^!/, '').replace(/^\/+/, '')).replace(/\/$/, '') }))
    : [];
  return (relative) => {
    const parts = path.posix.normalize(relative).split('/');
    // A pattern excludes a path when it matches the path or a folder above it; the last match decides.
    let ignored = false;
    for (const { negate, glob } of patterns) {
      if (parts.some((_, i) => path.matchesGlob(parts.slice(0, i + 1).join('/'), glob))) ignored = !negate;
    }
    return ignored;
  };
}
