import { describe, expect, it } from '@jest/globals';
import { CommanderError } from 'commander';
import { AdminRefusalError, ConflictError, ForbiddenError, NotFoundError, PhiRequiredError, ValidationError } from '../errors.ts';
import { exitCodeFor, reportError, wantsJson } from './report-error.ts';

describe('how a failed command line ends', () => {
  it('maps each kind of failure to its documented exit code', () => {
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toBe(2);
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(0);
    expect(exitCodeFor(new ValidationError('bad'))).toBe(2);
    expect(exitCodeFor(new PhiRequiredError('phi'))).toBe(2);
    expect(exitCodeFor(new NotFoundError('gone'))).toBe(4);
    expect(exitCodeFor(new ConflictError('taken'))).toBe(5);
    expect(exitCodeFor(new ForbiddenError('lacks'))).toBe(6);
    expect(exitCodeFor(new AdminRefusalError('escalation'))).toBe(6);
    expect(exitCodeFor(new Error('boom'))).toBe(1);
  });

  it('prints a usage error as one JSON document with --json, and leaves commander\'s own message for people', () => {
    const printed: string[] = [];
    const terminal = { out: () => {}, err: (text: string) => void printed.push(text), readFile: async () => '', readStdin: async () => '', writeFile: async () => {} };
    const usage = new CommanderError(1, 'commander.missingMandatoryOptionValue', "error: required option '--tenant <tenant>' not specified");
    expect(reportError(terminal, usage, true)).toBe(2);
    expect(printed).toEqual([`${JSON.stringify({ error: 'invalid_usage', error_description: "required option '--tenant <tenant>' not specified" })}\n`]);
    expect(reportError(terminal, usage, false)).toBe(2);
    expect(printed).toHaveLength(1);
  });

  it('reads --json from the raw arguments, before commander parses them, and not after --', () => {
    expect(wantsJson(['user', 'list', '--json'])).toBe(true);
    expect(wantsJson(['--json', 'bogus'])).toBe(true);
    expect(wantsJson(['user', 'create', '--', '--json'])).toBe(false);
  });
});
