/**
 * TEST DOUBLE support: where the loopback double's client sidecar sends a connection, decided by
 * `explain` on the istiod oracle's golden dump for the double's Istio minor, bed state (applied
 * extras + istiod env) and client workload — what istiod really generates, not a table.
 * Returns null when no golden covers that minor/state/client; the double then says so and falls
 * back to its own table.
 */
import { explain, loadConfigDump, type ConfigDump, type Explanation } from '../../envoy/index.ts';
import { readGolden } from '../../../oracle/goldens.ts';
import { POD_IPS, stateId } from '../../../oracle/inputs.ts';
import type { WorkloadName } from '../scenario.ts';

export interface GoldenDecision {
  explanation: Explanation;
  /** The golden pod the cluster sends to (ORIGINAL_DST keeps the dialled one), or null when it leaves the bed. */
  upstream: { workload: WorkloadName; replica: number } | null;
  /** The source the decision came from, for test messages. */
  source: string;
}

const cache = new Map<string, ConfigDump | null>();

function dumpFor(minor: string, state: string, client: WorkloadName): ConfigDump | null {
  const key = `${minor}/${state}/${client}`;
  if (!cache.has(key)) {
    const g = readGolden(minor, state, client);
    cache.set(key, g ? loadConfigDump(g) : null);
  }
  return cache.get(key) ?? null;
}

function minorOf(istio: string): string | null {
  const m = /^v?(\d+)\.(\d+)/.exec(istio);
  return m ? `${m[1]}.${m[2]}` : null;
}

function goldenPodAt(ip: string): { workload: WorkloadName; replica: number } | null {
  for (const [workload, ips] of Object.entries(POD_IPS) as Array<[WorkloadName, readonly string[]]>) {
    const replica = ips.indexOf(ip);
    if (replica >= 0) return { workload, replica };
  }
  return null;
}

/** The outbound decision for `client` dialling pod (target workload, replica) on `port`. */
export function goldenRoute(options: {
  istio: string;
  pilotEnv: Readonly<Record<string, string>>;
  applied: readonly string[];
  client: WorkloadName;
  target: { workload: WorkloadName; replica: number };
  port: number;
  protocol: 'tcp' | 'http';
  host?: string;
}): GoldenDecision | null {
  const minor = minorOf(options.istio);
  if (minor === null) return null;
  const state = stateId(options.applied, options.pilotEnv);
  const dump = dumpFor(minor, state, options.client);
  const targetIp = POD_IPS[options.target.workload]?.[options.target.replica];
  if (!dump || !targetIp) return null;
  const dst = `${targetIp}:${options.port}`;
  const explanation = explain(dump, { dst, protocol: options.protocol, ...(options.host ? { host: options.host } : {}) });
  let upstream: GoldenDecision['upstream'] = null;
  if (explanation.verdict === 'passthrough' || explanation.cluster?.type === 'ORIGINAL_DST') upstream = options.target;
  else if (explanation.cluster?.type === 'EDS') {
    const first = explanation.cluster.endpoints[0];
    upstream = first ? goldenPodAt(first.slice(0, first.lastIndexOf(':'))) : null;
  }
  return { explanation, upstream, source: `oracle/goldens/${minor}/${state}/${options.client}` };
}
