import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const statusCommand: Command = {
  name: 'status',
  summary: 'Show a podpath cluster: Istio version, workloads, readiness',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('status: not built yet');
  },
};
