/** What a listener knows about a new connection when it picks a filter chain. */
import type { Ip } from './ip.ts';

export interface Connection {
  dst: Ip;
  port: number;
  /** Unknown unless the query gives it; source criteria are then reported as uncertain. */
  src: Ip | null;
  srcPort: number | null;
  /** SNI from the TLS ClientHello ('' when none). */
  serverName: string;
  /** 'tls' or 'raw_buffer', as the tls_inspector would report it. */
  transportProtocol: string;
  /** ALPN, or what the http_inspector detected ('http/1.1', 'h2c'). */
  applicationProtocols: string[];
}

/** The outcome of picking a filter chain, by either mechanism. */
export interface ChainDecision<C> {
  chain: C | null;
  /** Why it was chosen (or why none was), for the human step line. */
  reason: string;
  /** The destination matched a single-address range (/32 or /128): a VIP-specific chain. */
  exactDestination: boolean;
  /** What could not be decided from the query (e.g. source prefixes with no --src). */
  uncertain: string[];
  /** The unified matcher's path, e.g. ["port=5701", "ip 10.96.0.0/16"]; null for filter_chain_match. */
  matcherPath: string[] | null;
}
