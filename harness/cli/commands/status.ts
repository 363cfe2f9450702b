import type { Command, CommandContext } from '../command.ts';
import { write } from '../output.ts';
import { status, type BedDeps } from '../../cluster/index.ts';
import { renderStatus } from '../../cluster/render.ts';

export function makeStatusCommand(overrides: Partial<BedDeps> = {}): Command {
  return {
    name: 'status',
    summary: 'Show the podpath cluster: Istio version, mesh settings, workloads and readiness',
    usage: '[--name NAME] [--json] [--dry-run]',
    details: [
      'Reads only (it refreshes podpath\'s own kubeconfig for the cluster, never yours). The Istio',
      'version comes from the istiod image (else from the podpath marker). Prints the path of the',
      'cluster\'s kubeconfig: export KUBECONFIG=$(podpath kubeconfig) to use kubectl on it.',
      'Exit codes: 0 (also when the cluster is missing or not ready: see "ready"), 2 environment error',
      '(Docker missing or not running).',
    ].join('\n'),
    options: {
      name: { type: 'string', valueName: 'NAME', description: 'kind cluster name (default podpath)' },
      json: { type: 'boolean', description: 'print the status as JSON' },
      'dry-run': { type: 'boolean', description: 'print the commands and API calls status would make' },
    },
    allowPositionals: false,
    async run(ctx: CommandContext): Promise<number> {
      const name = typeof ctx.values.name === 'string' ? ctx.values.name : 'podpath';
      const result = await status({ name, dryRun: ctx.values['dry-run'] === true, signal: ctx.signal }, overrides, { env: ctx.io.env });
      if (result.plan) {
        await write(ctx.io.stdout, `Plan for podpath status (dry run):\n${result.plan.render()}`);
        return 0;
      }
      if (ctx.values.json === true) {
        await write(ctx.io.stdout, `${JSON.stringify(result.status, null, 2)}\n`);
        return 0;
      }
      await write(ctx.io.stdout, renderStatus(result.status));
      return 0;
    },
  };
}

export const statusCommand: Command = makeStatusCommand();
