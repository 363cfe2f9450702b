import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const logsCommand: Command = {
  name: 'logs',
  summary: 'Read Istio sidecar access logs: decode, summarise, follow a connection, diagnose (offline)',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('logs: not built yet');
  },
};
