import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const lintCommand: Command = {
  name: 'lint',
  summary: 'Find port collisions and mesh pitfalls in Kubernetes/Istio YAML (offline)',
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('lint: not built yet');
  },
};
