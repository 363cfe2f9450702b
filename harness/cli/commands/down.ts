import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const downCommand: Command = {
  name: 'down',
  summary: 'Delete a kind cluster podpath created',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('down: not built yet');
  },
};
