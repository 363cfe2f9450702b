import type { Writable } from 'node:stream';
import type { Command, CommandContext, Values } from '../command.ts';
import { paint, write } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { up, parsePilotEnv, DEFAULT_CONNECT_TIMEOUT, ISTIO_MINORS, type BedDeps, type BedOptions } from '../../cluster/index.ts';
import { formatTimings } from '../../cluster/render.ts';

function str(values: Values, key: string): string | undefined {
  const value = values[key];
  return typeof value === 'string' ? value : undefined;
}

function strings(values: Values, key: string): string[] {
  const value = values[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? [value] : [];
}

export function isTTY(stream: Writable): boolean {
  return (stream as Writable & { isTTY?: boolean }).isTTY === true;
}

export function bedOptionsFrom(values: Values, signal: AbortSignal): BedOptions {
  const encoding = str(values, 'log-encoding') ?? 'text';
  if (encoding !== 'text' && encoding !== 'json') throw new UsageError(`--log-encoding must be text or json, not '${encoding}'`);
  return {
    name: str(values, 'name') ?? 'podpath',
    istio: str(values, 'istio') ?? ISTIO_MINORS[0].minor,
    k8s: str(values, 'k8s'),
    logEncoding: encoding,
    pilotEnv: parsePilotEnv(strings(values, 'pilot-env')),
    // The same default as `podpath run`, so a bed made by `up` and reused by `run --reuse` is the mesh the README describes.
    connectTimeout: str(values, 'connect-timeout') ?? DEFAULT_CONNECT_TIMEOUT,
    reuse: values.reuse === true,
    keep: values.keep === true,
    allowContext: str(values, 'allow-context'),
    dryRun: values['dry-run'] === true,
    preload: values['skip-preload'] !== true,
    signal,
  };
}

/** The command with its dependencies open for tests (the exported upCommand uses the live ones). */
export function makeUpCommand(overrides: Partial<BedDeps> = {}): Command {
  return {
    name: 'up',
    summary: 'Create a kind cluster with Istio and the podpath workloads (needs Docker)',
    usage: '[--name NAME] [--istio V] [--k8s V] [--log-encoding text|json] [--pilot-env K=V]... [--reuse] [--dry-run]',
    details: [
      'Needs Docker (running) and about 6 GiB of disk. Downloads kind and istioctl for the exact',
      'versions from their GitHub releases into $XDG_CACHE_HOME/podpath (default ~/.cache/podpath),',
      'checked against the published sha256; a kind/istioctl on PATH with the right version is used as is.',
      'The cluster gets its own kubeconfig under the cache (clusters/NAME/kubeconfig): kind and',
      'istioctl are always given --kubeconfig, so your kubeconfig and its current context stay as',
      'they are. `podpath kubeconfig` prints the path.',
      'Only clusters podpath created (marker ConfigMap kube-system/podpath-cluster) are changed,',
      'unless --allow-context names another. Ctrl-C removes what this run created (unless --keep).',
      'Budget: fresh cluster ready in 4 min with preloaded images on a 2-core runner; --reuse in 5 s.',
      '',
      'Examples:',
      '  podpath up --istio 1.22 --pilot-env ENABLE_EXTERNAL_NAME_ALIAS=false --connect-timeout 1s',
      '  podpath up --reuse            # attach to the existing cluster, check readiness only',
      '  podpath up --dry-run          # print every command, API call and file, touch nothing',
      '',
      'Exit codes: 0 ready, 2 usage or environment error (Docker missing, unknown version), 130 interrupted.',
    ].join('\n'),
    options: {
      name: { type: 'string', valueName: 'NAME', description: 'kind cluster name (default podpath; context kind-NAME)' },
      istio: { type: 'string', valueName: 'V', description: `Istio version: a minor (latest known patch) or an exact patch (default ${ISTIO_MINORS[0].minor})` },
      k8s: { type: 'string', valueName: 'V', description: 'Kubernetes minor for the kind node (default: newest Istio supports)' },
      'log-encoding': { type: 'string', valueName: 'text|json', description: 'sidecar access log encoding (default text)' },
      'pilot-env': { type: 'string', multiple: true, valueName: 'K=V', description: 'extra istiod env, e.g. ENABLE_EXTERNAL_NAME_ALIAS=false (repeatable)' },
      'connect-timeout': { type: 'string', valueName: 'DURATION', description: `meshConfig.connectTimeout (default ${DEFAULT_CONNECT_TIMEOUT}, as for run; Istio's own default is 10s)` },
      reuse: { type: 'boolean', description: 'attach to an existing podpath cluster and only check readiness' },
      keep: { type: 'boolean', description: 'on failure or Ctrl-C, keep what this run created' },
      'allow-context': { type: 'string', valueName: 'NAME', description: 'allow changing this kind cluster/context even without the podpath marker' },
      'skip-preload': { type: 'boolean', description: 'do not pull and kind-load the workload and Istio images (the kubelet pulls them)' },
      'dry-run': { type: 'boolean', description: 'print the plan (commands, API calls, files) and touch nothing' },
      json: { type: 'boolean', description: 'print the result as JSON' },
    },
    allowPositionals: false,
    async run(ctx: CommandContext): Promise<number> {
      const options = bedOptionsFrom(ctx.values, ctx.signal);
      const stderrTTY = isTTY(ctx.io.stderr);
      const progress = (phase: string, detail: string) => {
        if (!options.dryRun) ctx.io.stderr.write(`${paint('cyan', `[${phase}]`, ctx.io.stderr)} ${detail}\n`);
      };
      const bed = await up({ ...options, onProgress: progress }, overrides, { env: ctx.io.env, progress: ctx.io.stderr, isTTY: stderrTTY });
      // The bed stays; the lease goes, or the next 'run --reuse' would wait for it to expire.
      await bed.lease.release();
      for (const warning of bed.warnings) await write(ctx.io.stderr, `podpath: warning: ${warning}\n`);
      if (bed.plan) {
        if (ctx.values.json === true) {
          await write(ctx.io.stdout, `${JSON.stringify({ dryRun: true, steps: bed.plan.steps, files: Object.fromEntries(bed.files) }, null, 2)}\n`);
          return 0;
        }
        const files = [...bed.files].map(([path, content]) => `--- ${path}\n${content}`).join('\n');
        await write(ctx.io.stdout, `Plan for podpath up (dry run, nothing was changed):\n${bed.plan.render()}\nGenerated files:\n${files}`);
        return 0;
      }
      const summary = {
        name: bed.name,
        context: bed.context,
        kubeconfig: bed.kubeconfig,
        created: bed.created,
        istio: bed.istio.version,
        kubernetesNode: bed.marker.nodeImage || bed.istio.node.image,
        kind: bed.marker.kind || bed.istio.kind,
        logEncoding: bed.marker.logEncoding,
        connectTimeout: bed.marker.connectTimeout || null,
        pilotEnv: bed.marker.pilotEnv,
        timings: bed.timings,
        warnings: bed.warnings,
      };
      if (ctx.values.json === true) {
        await write(ctx.io.stdout, `${JSON.stringify(summary, null, 2)}\n`);
        return 0;
      }
      await write(
        ctx.io.stdout,
        [
          `cluster ${bed.name} (context ${bed.context}) ${options.reuse ? 'is ready' : bed.created ? 'created and ready' : 'healed and ready'}: Istio ${bed.istio.version} on ${bed.marker.nodeImage || bed.istio.node.image} (kind ${bed.marker.kind || bed.istio.kind})`,
          `mesh: access log ${bed.marker.logEncoding.toUpperCase()}, connectTimeout ${bed.marker.connectTimeout || "Istio's default"}${Object.keys(bed.marker.pilotEnv).length ? `, pilot env ${Object.entries(bed.marker.pilotEnv).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`,
          `kubeconfig: ${bed.kubeconfig} (podpath's own; yours is untouched. To use kubectl on it: export KUBECONFIG=$(podpath kubeconfig${bed.name === 'podpath' ? '' : ` ${bed.name}`}))`,
          formatTimings(bed.timings, options.reuse),
          '',
        ].join('\n'),
      );
      return 0;
    },
  };
}

export const upCommand: Command = makeUpCommand();
