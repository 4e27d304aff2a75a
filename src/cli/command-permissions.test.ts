import { describe, expect, it } from '@jest/globals';
import type { Command } from 'commander';
import { buildProgram } from './build-program.ts';
import { commandPath, commandPermissions, OPERATOR_ONLY } from './command-permissions.ts';

/** Commands that open no store (`audit verify-export` checks a file alone): --as has nothing to decide. */
const STORELESS = ['audit verify-export'];

const leaves = (command: Command): Command[] => (command.commands.length ? command.commands.flatMap(leaves) : [command]);
const silent = { out: () => {}, err: () => {}, readFile: async () => '', readStdin: async () => '', writeFile: async () => {} };

describe('what a command needs with --as', () => {
  const program = buildProgram({ terminal: silent, json: true, execute: async () => {} });

  it('is declared for every command that runs against the store, so none is open to --as by omission', () => {
    const undeclared = leaves(program).map(commandPath).filter((path) => !(path in commandPermissions) && !STORELESS.includes(path));
    expect(undeclared).toEqual([]);
  });

  it('is an admin API permission (caregate.*), or the operator alone', () => {
    for (const [path, requirement] of Object.entries(commandPermissions)) {
      if (requirement === OPERATOR_ONLY) continue;
      const permissions = typeof requirement.permission === 'string' ? [requirement.permission] : [requirement.permission({}), requirement.permission({ set: ['a=b'] })];
      for (const permission of permissions) expect([path, permission]).toEqual([path, expect.stringMatching(/^caregate\.[a-z_]+:[a-z]+$/)]);
    }
  });
});
