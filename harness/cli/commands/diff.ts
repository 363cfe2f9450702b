import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const diffCommand: Command = {
  name: 'diff',
  summary: 'Compare two runs (e.g. Istio A vs B) and list what changed',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('diff: not built yet');
  },
};
