/**
 * Idle upstream connections the client sidecar keeps in PassthroughCluster, and when they must go.
 *
 * PassthroughCluster is ORIGINAL_DST: Envoy adds a host per destination and pools idle upstream
 * HTTP/1 connections to it, so an HTTP probe can ride a connection an earlier probe opened, with
 * the mTLS of that earlier moment (a plaintext connection opened under PERMISSIVE still answers
 * after STRICT is applied). Envoy removes an ORIGINAL_DST host once it went unused for the
 * cluster's cleanup_interval (5 s unless set, and istiod sets none on PassthroughCluster: istio/istio
 * pilot/pkg/networking/core/cluster_builder.go, buildDefaultPassthroughCluster; envoyproxy/envoy
 * source/extensions/clusters/original_dst/original_dst_cluster.cc), and removing a host closes its
 * connection pools (source/common/upstream/cluster_manager_impl.cc, removeHosts). So the pooled
 * connections are gone once the admin `/clusters` output lists no host for the destination under
 * PassthroughCluster: that is what the runner waits for. Envoy's admin drain endpoints do not do
 * this: /drain_listeners drains downstream listeners, not upstream pools.
 */
import type { MtlsMode } from './scenario.ts';

const PASSTHROUGH = 'PassthroughCluster';

/** A host line: `PassthroughCluster::ip:port::stat::value` or `...::[v6]:port::...` (v6 holds `::` itself). */
const HOST_LINE = new RegExp(`^${PASSTHROUGH}::(\\d{1,3}(?:\\.\\d{1,3}){3}:\\d+|\\[[0-9A-Fa-f:.]+\\]:\\d+)::`);

/** Hosts PassthroughCluster holds, from Envoy admin `/clusters` text (`CLUSTER::HOST::STAT::VALUE` lines). */
export function passthroughHosts(clustersText: string): string[] {
  const hosts = new Set<string>();
  for (const line of clustersText.split('\n')) {
    const m = HOST_LINE.exec(line.trim());
    if (m) hosts.add(m[1]);
  }
  return [...hosts];
}

/** How Envoy's admin output writes a host: `ip:port`, IPv6 in brackets. */
export function envoyAddress(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * The mTLS mode of the last HTTP probes on one bed, shared by the scenarios that run on it.
 * `undefined` until the first: a reused bed may hold connections from a run before this one.
 */
export class MtlsHistory {
  private last: MtlsMode | undefined;

  /** Whether HTTP probes in `mode` must first wait for pooled connections to go; records `mode` as the last. */
  switchTo(mode: MtlsMode): { drain: boolean; from: MtlsMode | 'unknown' } {
    const from = this.last ?? 'unknown';
    this.last = mode;
    return { drain: from !== mode, from };
  }

  /** After a failed drain: the pools are in an unknown state again, so the next HTTP probes check. */
  forget(): void {
    this.last = undefined;
  }
}
