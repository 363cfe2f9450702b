/**
 * Envoy %RESPONSE_FLAGS% short codes (envoy source/common/stream_info/utility.h and the access
 * log docs). Unknown codes are kept as printed and reported as unknown, never dropped.
 */

export interface FlagInfo { code: string; long: string; meaning: string }

const TABLE: FlagInfo[] = [
  { code: 'UH', long: 'NoHealthyUpstream', meaning: 'no healthy upstream host in the cluster' },
  { code: 'UF', long: 'UpstreamConnectionFailure', meaning: 'upstream connection failure' },
  { code: 'UO', long: 'UpstreamOverflow', meaning: 'upstream overflow (circuit breaking)' },
  { code: 'NR', long: 'NoRouteFound', meaning: 'no route (HTTP) or no matching filter chain (connection)' },
  { code: 'URX', long: 'UpstreamRetryLimitExceeded', meaning: 'retry limit (HTTP) or max connect attempts (TCP) reached' },
  { code: 'NC', long: 'NoClusterFound', meaning: 'upstream cluster not found' },
  { code: 'DT', long: 'DurationTimeout', meaning: 'max connection/stream duration exceeded' },
  { code: 'DC', long: 'DownstreamConnectionTermination', meaning: 'downstream connection terminated' },
  { code: 'LH', long: 'FailedLocalHealthCheck', meaning: 'local service failed its health check' },
  { code: 'UT', long: 'UpstreamRequestTimeout', meaning: 'upstream request timeout' },
  { code: 'LR', long: 'LocalReset', meaning: 'connection local reset' },
  { code: 'UR', long: 'UpstreamRemoteReset', meaning: 'upstream remote reset' },
  { code: 'UC', long: 'UpstreamConnectionTermination', meaning: 'upstream connection terminated' },
  { code: 'DI', long: 'DelayInjected', meaning: 'delayed by fault injection' },
  { code: 'FI', long: 'FaultInjected', meaning: 'aborted by fault injection' },
  { code: 'RL', long: 'RateLimited', meaning: 'rate limited locally' },
  { code: 'UAEX', long: 'UnauthorizedExternalService', meaning: 'denied by the external authorization service' },
  { code: 'RLSE', long: 'RateLimitServiceError', meaning: 'rate limit service error' },
  { code: 'IH', long: 'InvalidEnvoyRequestHeaders', meaning: 'invalid value in a strictly-checked header' },
  { code: 'SI', long: 'StreamIdleTimeout', meaning: 'stream idle timeout' },
  { code: 'DPE', long: 'DownstreamProtocolError', meaning: 'downstream HTTP protocol error (is the port protocol right?)' },
  { code: 'UPE', long: 'UpstreamProtocolError', meaning: 'upstream HTTP protocol error' },
  { code: 'UMSDR', long: 'UpstreamMaxStreamDurationReached', meaning: 'upstream max stream duration reached' },
  { code: 'RFCF', long: 'ResponseFromCacheFilter', meaning: 'response served by the cache filter' },
  { code: 'NFCF', long: 'NoFilterConfigFound', meaning: 'no filter config found' },
  { code: 'OM', long: 'OverloadManagerTerminated', meaning: 'terminated by the overload manager' },
  { code: 'DF', long: 'DnsResolutionFailed', meaning: 'DNS resolution failed' },
  { code: 'DO', long: 'DropOverload', meaning: 'dropped by drop_overload' },
  { code: 'DR', long: 'DownstreamRemoteReset', meaning: 'downstream remote reset' },
  // A flag of newer Envoy releases whose long name could not be checked against envoyproxy/envoy here, so none is mapped.
  { code: 'UDO', long: '', meaning: 'newer Envoy drop-overload flag (UDO)' },
];

const BY_CODE = new Map(TABLE.map((f) => [f.code, f]));
const BY_LONG = new Map(TABLE.filter((f) => f.long !== '').map((f) => [f.long, f.code]));

export const KNOWN_FLAGS: readonly string[] = TABLE.map((f) => f.code);

export function isKnownFlag(code: string): boolean {
  return BY_CODE.has(code);
}

export function describeFlag(code: string): string {
  return BY_CODE.get(code)?.meaning ?? 'unknown flag (not in podpath\'s table; kept as printed)';
}

const cache = new Map<string, string[]>();

/** `-` → [], `UF,URX` → ['UF','URX']; long names (%RESPONSE_FLAGS_LONG%) map back to short codes. */
export function parseFlags(text: string | null): string[] {
  if (text === null || text === '-' || text === '') return [];
  const hit = cache.get(text);
  if (hit !== undefined) return hit.slice();
  const codes = text.split(',').map((part) => BY_LONG.get(part.trim()) ?? part.trim()).filter((c) => c !== '');
  if (cache.size < 4096) cache.set(text, codes);
  return codes.slice();
}
