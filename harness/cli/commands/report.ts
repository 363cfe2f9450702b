import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const reportCommand: Command = {
  name: 'report',
  summary: 'Re-render the reports of a finished run',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('report: not built yet');
  },
};
