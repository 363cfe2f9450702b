/**
 * Follows one connection across both sidecars: the client sidecar's outbound entry has the app
 * socket as downstream_remote_address; the server sidecar's inbound entry has the client
 * sidecar's upstream_local_address as its downstream_remote_address (and, for HTTP, the same
 * x-request-id). One pass builds the index.
 */
import { serverStop } from './hop-end.ts';
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
    const client = candidates.reduce<AccessLogEntry | null>(preferClient, null);
    const server = client?.upstreamLocalAddress ? (this.byRemote.get(client.upstreamLocalAddress) ?? []).find((e) => isServerFor(client, e)) ?? null : null;
    return hops(localAddress, client, server, candidates.length > 0);
  }
}

/**
 * The client hop among entries whose downstream_remote_address is the app socket, seen in order:
 * never an inbound entry; the first outbound one, else the first of unknown direction. Both the
 * index and the follower decide with this one rule.
 */
function preferClient(current: AccessLogEntry | null, e: AccessLogEntry): AccessLogEntry | null {
  if (e.cluster.direction === 'inbound') return current;
  if (current === null || (current.cluster.direction !== 'outbound' && e.cluster.direction === 'outbound')) return e;
  return current;
}

/**
 * Same upstream socket, and for HTTP the same request: a pooled upstream connection carries many
 * requests from one upstream_local_address, and both sidecars log the x-request-id the client
 * sidecar set. A server entry without one (a listener-level reject, a TCP proxy) never saw a request.
 */
function isServerFor(client: AccessLogEntry, e: AccessLogEntry): boolean {
  if (e === client || e.downstreamRemoteAddress !== client.upstreamLocalAddress || e.cluster.direction === 'outbound') return false;
  return client.requestId === null || e.requestId === null || e.requestId === client.requestId;
}

/** The hop chain, or where it stopped and why. */
function hops(localAddress: string, client: AccessLogEntry | null, server: AccessLogEntry | null, seenAsSource: boolean): Hops {
  if (client === null) {
    return {
      localAddress, client: null, server: null,
      stoppedAt: seenAsSource
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
  if (server === null) {
    return {
      localAddress, client, server: null,
      stoppedAt: `no server entry with downstream_remote_address ${client.upstreamLocalAddress} (server log not given, server has no sidecar, or the upstream is outside the mesh)`,
    };
  }
  return { localAddress, client, server, stoppedAt: serverStop(server) };
}

/**
 * Follows one address while entries stream by, keeping only the entries on its path: the
 * client entry, and the server entry once the client's upstream_local_address is known. If the
 * server's log came first, a second pass over the (re-readable) inputs finds it: memory stays
 * constant whatever the log size. `correlate` and ConnectionIndex are the in-memory form.
 */
export class ConnectionFollower {
  readonly localAddress: string;
  private client: AccessLogEntry | null = null;
  private server: AccessLogEntry | null = null;
  private seenAsSource = false;

  constructor(localAddress: string) {
    this.localAddress = localAddress;
  }

  add(e: AccessLogEntry): void {
    const remote = e.downstreamRemoteAddress;
    if (remote === null) return;
    if (remote === this.localAddress) {
      this.seenAsSource = true;
      if (preferClient(this.client, e) === e) {
        this.client = structuredClone(e);
        // A server entry found for a client that lost to this one is not on this path.
        this.server = null;
      }
      return;
    }
    if (this.server === null && this.client !== null && isServerFor(this.client, e)) this.server = structuredClone(e);
  }

  /** True when the client entry is known but its server entry may have streamed by before it. */
  get wantsSecondPass(): boolean {
    return this.client !== null && this.client.upstreamLocalAddress !== null && this.server === null;
  }

  result(): Hops {
    return hops(this.localAddress, this.client, this.server, this.seenAsSource);
  }
}

/** O(n): one pass to index, then two map lookups. */
export function correlate(entries: Iterable<AccessLogEntry>, localAddress: string): Hops {
  const index = new ConnectionIndex();
  for (const entry of entries) index.add(entry);
  return index.follow(localAddress);
}
