import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command, Values } from '../command.ts';
import { styleText } from 'node:util';
import { wantsColor, write, type Io } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { cacheRoot } from '../../cluster/assets.ts';
import { parsePilotEnv } from '../../cluster/config.ts';
import type { DumpGenerator } from '../../oracle/types.ts';
import {
  destinationsFromLog, ISTIO_DEFAULT_MESH, loadManifests, loadMeshConfig, parsePodIps, parseWorkloadRef, predict,
  predictionJson, predictModel, renderPrediction, resolveDestination, selectMinors, type Destination,
} from '../../predict/index.ts';

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

export interface GeneratorOptions {
  env: NodeJS.ProcessEnv;
  /** $XDG_CACHE_HOME/podpath/oracle: builds and generated dumps. */
  cacheDir: string;
  offlineOnly: boolean;
}

/** The real generator, imported only when predict runs (it brings the Go build machinery). */
async function realGenerator(options: GeneratorOptions): Promise<DumpGenerator> {
  const { createOracleGenerator } = await import('../../oracle/generator.ts');
  return createOracleGenerator(options);
}

/** Progress to stderr, one line each (stdout carries the answer, also with --json). */
function progressWriter(io: Io): (message: string) => void {
  return (message) => {
    io.stderr.write(`predict: ${message}\n`);
  };
}

export function makePredictCommand(deps: { generator?: (options: GeneratorOptions) => Promise<DumpGenerator> | DumpGenerator } = {}): Command {
  return {
    name: 'predict',
    summary: 'What each Istio version\'s istiod would do with your manifests, and what an upgrade changes (no cluster)',
    usage: '-f FILE|DIR... --istio MINORS --from NAMESPACE/WORKLOAD (--dst IP:PORT|HOST:PORT... | --dst-from-logs FILE | --changes) [--json]',
    details: [
      "Generates the workload's sidecar config with each Istio version's own istiod code (the oracle: Go,",
      'built once per minor into the podpath cache), explains each destination on it like `podpath explain`,',
      'and prints one row per version: verdict, listener, filter chain, cluster, and what the client sidecar',
      'would log (PassthroughCluster; outbound|5701||… with UF,URX when no endpoint answers on that port).',
      'Rows that differ from the first generated version are marked with *.',
      '',
      'The manifests are what a cluster would hold: Services of every type, ServiceEntry, Sidecar,',
      'VirtualService, DestinationRule, PeerAuthentication, and the workloads (Deployment, StatefulSet, Pod)',
      'for labels and ports. Pod and Service IPs the manifests do not give are assigned (kind ranges:',
      'pods 10.244.0.0/16, Services from 10.96.1.1) and printed. Every pod is taken to have a sidecar unless',
      'it or its namespace opts out. Mesh config: Istio\'s default unless --mesh-config.',
      '',
      '--istio: minors (1.22,1.24), a range (1.20..1.30: every minor podpath knows in it), or both. A minor',
      'in a range that cannot be generated here is a row saying why; one named on its own is exit 2.',
      '',
      'Examples:',
      '  podpath predict -f k8s/ --istio 1.20..1.30 --from manager/manager --dst 10.244.0.12:5701',
      '  podpath predict -f k8s/ --istio 1.22,1.24 --from manager/manager --changes --pilot-env ENABLE_EXTERNAL_NAME_ALIAS=false',
      '  podpath predict -f k8s/ --istio 1.24 --from app/app --dst-from-logs app-sidecar.log',
      '',
      'Exit codes: 0 predicted; 1 with --changes, when some version changes the verdict for a destination;',
      '2 usage or environment error (a named minor that cannot be generated, no Go and nothing built).',
    ].join('\n'),
    options: {
      filename: { type: 'string', short: 'f', multiple: true, valueName: 'FILE|DIR', description: 'manifests (YAML or JSON; directories are read recursively; repeatable)' },
      istio: { type: 'string', valueName: 'MINORS', description: 'Istio minors: 1.22,1.24 or a range 1.20..1.30' },
      from: { type: 'string', valueName: 'NS/WORKLOAD', description: 'the workload whose sidecar sends the traffic, e.g. manager/manager' },
      dst: { type: 'string', multiple: true, valueName: 'IP:PORT|HOST:PORT', description: 'what the application dials (repeatable); HOST is a Service name from the manifests' },
      host: { type: 'string', valueName: 'HOST', description: 'HTTP Host the client sends (the connection is then HTTP)' },
      'dst-from-logs': { type: 'string', valueName: 'FILE', description: "every distinct destination of the workload's outbound entries in this sidecar log" },
      changes: { type: 'boolean', description: 'list what appears, disappears or changes between consecutive versions' },
      'mesh-config': { type: 'string', valueName: 'FILE', description: 'an IstioOperator (spec.meshConfig, values.pilot.env), the istio ConfigMap, or a meshConfig block' },
      'pilot-env': { type: 'string', multiple: true, valueName: 'K=V', description: 'istiod environment, e.g. ENABLE_EXTERNAL_NAME_ALIAS=false (repeatable)' },
      'pod-ip': { type: 'string', multiple: true, valueName: 'NS/WORKLOAD=IP,...', description: 'pod IPs to use for a workload, one per replica (repeatable)' },
      'offline-only': { type: 'boolean', description: 'use only versions already built; never build' },
      json: { type: 'boolean', description: 'print the prediction as JSON' },
    },
    allowPositionals: false,
    async run({ values, io, signal }) {
      const files = list(values, 'filename');
      const istio = str(values, 'istio');
      const from = str(values, 'from');
      const hint = "Run 'podpath predict --help' for usage.";
      if (files.length === 0) throw new UsageError('predict: -f FILE|DIR is required (the manifests)', { hint });
      if (!istio) throw new UsageError('predict: --istio is required', { hint: 'e.g. --istio 1.24 or --istio 1.20..1.30' });
      if (!from) throw new UsageError('predict: --from NAMESPACE/WORKLOAD is required', { hint });
      const dsts = list(values, 'dst');
      const logFile = str(values, 'dst-from-logs');
      const changes = values.changes === true;
      if (dsts.length === 0 && logFile === undefined && !changes) throw new UsageError('predict: give --dst, --dst-from-logs or --changes', { hint });
      // Cheap checks first: a typo in --istio should not wait for the manifests.
      const minors = selectMinors(istio);
      const ref = parseWorkloadRef(from, '--from');
      const pilotEnv = parsePilotEnv(list(values, 'pilot-env'));
      const podIps = parsePodIps(list(values, 'pod-ip'));
      const meshFile = str(values, 'mesh-config');
      const mesh = meshFile === undefined ? ISTIO_DEFAULT_MESH : await loadMeshConfig(meshFile, io.cwd);
      const { files: read, documents } = await loadManifests(files, io.cwd);
      const model = predictModel(documents, { from: ref, mesh, pilotEnv, podIps });
      const host = str(values, 'host');
      const destinations: Destination[] = dsts.map((d) => resolveDestination(model, d, host));
      if (logFile !== undefined) {
        let text: string;
        try {
          text = await readFile(path.resolve(io.cwd, logFile), 'utf8');
        } catch {
          throw new UsageError(`predict: cannot read --dst-from-logs ${logFile}`);
        }
        const found = destinationsFromLog(text, logFile, ref.name);
        if (found.destinations.length === 0) {
          throw new UsageError(`predict: --dst-from-logs ${logFile}: no outbound entry of ${ref.name} with a destination address (${found.entries} entries read; ${found.notOutbound} not outbound, ${found.otherPod} of other pods, ${found.noAddress} without %DOWNSTREAM_LOCAL_ADDRESS%)`, {
            hint: "Give the client sidecar's log (kubectl logs POD -c istio-proxy), in Istio's default TEXT or JSON format.",
          });
        }
        for (const d of found.destinations) if (!destinations.some((x) => x.dst === d.dst && x.host === d.host)) destinations.push(host !== undefined && d.host === undefined ? { ...d, host } : d);
      }
      const onProgress = progressWriter(io);
      const offlineOnly = values['offline-only'] === true;
      const options: GeneratorOptions = { env: io.env, cacheDir: path.join(cacheRoot(io.env), 'oracle'), offlineOnly };
      const generator = await (deps.generator ?? realGenerator)(options);
      const prediction = await predict({ model, minors, destinations, generator, offlineOnly, changes, signal, onProgress });
      const json = values.json === true;
      if (json) await write(io.stdout, `${JSON.stringify(predictionJson(model, prediction, changes), null, 2)}\n`);
      else {
        // The command's own env decides (NO_COLOR, FORCE_COLOR, a terminal), as for every renderer given a switch.
        const color = wantsColor(io);
        await write(io.stdout, renderPrediction(model, prediction, {
          paint: (style, text) => (color ? styleText(style, text, { validateStream: false }) : text), minorsText: istio, files: read.length, documents: documents.length, changes,
        }));
      }
      return changes && prediction.verdictChanged ? 1 : 0;
    },
  };
}

export const predictCommand: Command = makePredictCommand();
