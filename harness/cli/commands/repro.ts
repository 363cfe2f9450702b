import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const reproCommand: Command = {
  name: 'repro',
  summary: 'Reproduce an incident file as a one-off scenario, or diagnose it offline',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('repro: not built yet');
  },
};
