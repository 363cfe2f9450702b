import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const runCommand: Command = {
  name: 'run',
  summary: 'Run the scenarios and report which path each connection took (needs Docker)',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('run: not built yet');
  },
};
