/**
 * `podpath kubeconfig [NAME]`: the path of a podpath cluster's own kubeconfig, so a user can look
 * at the bed with kubectl (`export KUBECONFIG=$(podpath kubeconfig)`) without podpath ever having
 * merged anything into their own kubeconfig. Reads one file's existence; needs no Docker.
 */
import { stat } from 'node:fs/promises';
import type { Command } from '../command.ts';
import { write } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { assertSafeClusterName, cacheRoot, clusterKubeconfig } from '../../cluster/assets.ts';
import { contextFor } from '../../cluster/config.ts';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

export const kubeconfigCommand: Command = {
  name: 'kubeconfig',
  summary: "Print the path of a podpath cluster's own kubeconfig (export KUBECONFIG=$(podpath kubeconfig))",
  usage: '[NAME] [--json]',
  details: [
    'podpath gives every cluster its own kubeconfig in its cache ($XDG_CACHE_HOME/podpath/clusters/',
    'NAME/kubeconfig, default ~/.cache/podpath/...): kind and istioctl are always pointed at it, so',
    'your own kubeconfig and its current context are never changed. Written by podpath up, refreshed',
    'by podpath status, removed by podpath down. NAME defaults to podpath.',
    '',
    'Examples:',
    '  export KUBECONFIG=$(podpath kubeconfig)        kubectl now talks to the podpath bed',
    '  kubectl --kubeconfig "$(podpath kubeconfig nightly)" get pods -A',
    '',
    'Exit codes: 0 printed, 2 no such podpath cluster (or a bad NAME).',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'print {name, context, kubeconfig} as JSON' },
  },
  allowPositionals: true,
  async run({ values, positionals, io }) {
    if (positionals.length > 1) throw new UsageError(`kubeconfig: one cluster name at most (got ${positionals.length})`, { hint: 'Usage: podpath kubeconfig [NAME]' });
    const name = assertSafeClusterName(positionals[0] ?? 'podpath');
    const path = clusterKubeconfig(cacheRoot(io.env), name);
    if (!(await isFile(path))) {
      throw new UsageError(`no podpath cluster '${name}': there is no kubeconfig at ${path}`, {
        hint: `Create it with 'podpath up${name === 'podpath' ? '' : ` --name ${name}`}'. If the cluster exists, 'podpath status${name === 'podpath' ? '' : ` --name ${name}`}' writes its kubeconfig again.`,
      });
    }
    await write(io.stdout, values.json === true ? `${JSON.stringify({ name, context: contextFor(name), kubeconfig: path }, null, 2)}\n` : `${path}\n`);
    return 0;
  },
};
