import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const upCommand: Command = {
  name: 'up',
  summary: 'Create a kind cluster with Istio and the podpath workloads (needs Docker)',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('up: not built yet');
  },
};
