/**
 * Follows one connection across both sidecars: the client sidecar's outbound entry has the app
 * socket as downstream_remote_address; the server sidecar's inbound entry has the client
 * sidecar's upstream_local_address as its downstream_remote_address. One pass builds the index.
 */
import type { AccessLogEntry, Hops } from './types.ts';

/** Index by downstream_remote_address; add entries as they stream by, then ask. */
export class ConnectionIndex {
  readonly byRemote = new Map<string, AccessLogEntry[]>();

  add(entry: AccessLogEntry): void {
    const key = entry.downstreamRemoteAddress;
    if (key === null) return;
    const list = this.byRemote.get(key);
    if (list === undefined) this.byRemote.set(key, [entry]);
    else list.push(entry);
  }

  follow(localAddress: string): Hops {
    const candidates = this.byRemote.get(localAddress) ?? [];
    // The client sidecar's entry is not inbound; prefer a decoded outbound-side cluster.
    const client = candidates.find((e) => e.cluster.direction === 'outbound') ?? candidates.find((e) => e.cluster.direction !== 'inbound') ?? null;
    if (client === null) {
      const inboundOnly = candidates.length > 0;
      return {
        localAddress, client: null, server: null,
        stoppedAt: inboundOnly
          ? `no client entry: ${localAddress} appears only as the source of inbound entries (give the client pod's istio-proxy log)`
          : `no client entry: no line has downstream_remote_address ${localAddress} (give the client pod's istio-proxy log, with access logging on)`,
      };
    }
    if (client.upstreamLocalAddress === null) {
      const why = client.cluster.kind === 'blackhole'
        ? 'BlackHoleCluster dropped it'
        : client.responseFlags.length > 0
          ? `${client.responseFlags.join(',')}: no upstream connection was made`
          : 'the entry has no upstream_local_address';
      return { localAddress, client, server: null, stoppedAt: `no server entry (connection ended in the client sidecar: ${why})` };
    }
    const server = (this.byRemote.get(client.upstreamLocalAddress) ?? []).find((e) => e !== client && e.cluster.direction !== 'outbound') ?? null;
    if (server === null) {
      return {
        localAddress, client, server: null,
        stoppedAt: `no server entry with downstream_remote_address ${client.upstreamLocalAddress} (server log not given, server has no sidecar, or the upstream is outside the mesh)`,
      };
    }
    return { localAddress, client, server, stoppedAt: null };
  }
}

/** O(n): one pass to index, then two map lookups. */
export function correlate(entries: Iterable<AccessLogEntry>, localAddress: string): Hops {
  const index = new ConnectionIndex();
  for (const entry of entries) index.add(entry);
  return index.follow(localAddress);
}
