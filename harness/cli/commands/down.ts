import type { Command, CommandContext } from '../command.ts';
import { write } from '../output.ts';
import { down, type BedDeps } from '../../cluster/index.ts';

export function makeDownCommand(overrides: Partial<BedDeps> = {}): Command {
  return {
    name: 'down',
    summary: 'Delete the podpath kind cluster',
    usage: '[--name NAME] [--allow-context NAME] [--force] [--dry-run]',
    details: [
      'Deletes only kind clusters podpath created (marker ConfigMap kube-system/podpath-cluster);',
      'any other cluster is refused unless --allow-context names it. No cluster: nothing to do, exit 0.',
      'kind deletes through podpath\'s own kubeconfig for the cluster (removed afterwards); your',
      'kubeconfig and its current context are never touched.',
      'A cluster a podpath run is using (it holds the lease kube-system/podpath-bed) is refused',
      'unless --force: deleting it would make that run fail with errors that look like mesh failures.',
      '',
      'Exit codes: 0 deleted or nothing to delete, 2 refused or environment error (Docker missing), 130 interrupted.',
    ].join('\n'),
    options: {
      name: { type: 'string', valueName: 'NAME', description: 'kind cluster name (default podpath)' },
      'allow-context': { type: 'string', valueName: 'NAME', description: 'allow deleting this cluster even without the podpath marker' },
      force: { type: 'boolean', description: 'delete even while another podpath run uses the cluster' },
      'dry-run': { type: 'boolean', description: 'print the plan and touch nothing' },
    },
    allowPositionals: false,
    async run(ctx: CommandContext): Promise<number> {
      const name = typeof ctx.values.name === 'string' ? ctx.values.name : 'podpath';
      const allowContext = typeof ctx.values['allow-context'] === 'string' ? ctx.values['allow-context'] : undefined;
      const result = await down({ name, dryRun: ctx.values['dry-run'] === true, allowContext, force: ctx.values.force === true, signal: ctx.signal }, overrides, { env: ctx.io.env });
      if (result.plan) {
        await write(ctx.io.stdout, `Plan for podpath down (dry run, nothing was changed):\n${result.plan.render()}`);
        return 0;
      }
      await write(ctx.io.stdout, `${result.message}\n`);
      return 0;
    },
  };
}

export const downCommand: Command = makeDownCommand();
