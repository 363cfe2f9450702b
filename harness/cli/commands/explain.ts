import type { Command } from '../command.ts';
import { EnvironmentError } from '../../errors/index.ts';

// PLACEHOLDER: replaced by the real command; must not survive into a landed build.
export const explainCommand: Command = {
  name: 'explain',
  summary: "Predict the path of a connection from a sidecar's Envoy config dump (offline)",
  usage: '',
  options: {},
  allowPositionals: true,
  async run() {
    throw new EnvironmentError('explain: not built yet');
  },
};
