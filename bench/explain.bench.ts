/**
 * `podpath explain` on a big sidecar dump vs the floor: `node -e "JSON.parse(fs.readFileSync(f))"`.
 * The dump has 5,000 listeners, 50,000 filter chains and 20,000 clusters (~200 MB) at
 * BENCH_SCALE=1; it is generated once into bench/.data/ (gitignored) and reused.
 * Both sides run as child processes of the same Node, so start-up and file reading count.
 * Target: explain total time <= 2x the parse-only reference.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { podpathEntry, printRatio } from './lib.ts';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const LISTENERS = Math.max(10, Math.round(5000 * scale));
const CHAINS_PER_LISTENER = 10;
const CLUSTERS = Math.max(20, Math.round(20000 * scale));
const RUNS = Number(process.env.BENCH_RUNS ?? '3');

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(here, '.data');
const file = join(dataDir, `explain-dump-${LISTENERS}-${CLUSTERS}.json`);
const podpath = podpathEntry(join(here, '..'));

// Istio's default access log format, as every tcp_proxy and HCM carries it (most of a real dump's bytes).
const LOG_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';
const T = 'type.googleapis.com/';

function accessLog() {
  return [
    { name: 'envoy.access_loggers.file', typed_config: { '@type': `${T}envoy.extensions.access_loggers.file.v3.FileAccessLog`, path: '/dev/stdout', log_format: { text_format_source: { inline_string: LOG_FORMAT } } } },
    {
      name: 'otel',
      typed_config: {
        '@type': `${T}envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig`,
        common_config: { log_name: 'otel_envoy_accesslog', grpc_service: { envoy_grpc: { cluster_name: 'outbound|4317||opentelemetry-collector.observability.svc.cluster.local', authority: 'opentelemetry-collector.observability.svc.cluster.local' } }, transport_api_version: 'V3' },
        body: { string_value: LOG_FORMAT },
        attributes: { values: [{ key: 'node_name', value: { string_value: '%NODE_NAME%' } }, { key: 'cluster_name', value: { string_value: '%CLUSTER_NAME%' } }, { key: 'response_flags', value: { string_value: '%RESPONSE_FLAGS%' } }] },
      },
    },
  ];
}

function observers() {
  return [
    { name: 'istio.metadata_exchange', typed_config: { '@type': `${T}udpa.type.v1.TypedStruct`, type_url: `${T}envoy.tcp.metadataexchange.config.MetadataExchange`, value: { protocol: 'istio-peer-exchange', enable_discovery: true } } },
    {
      name: 'envoy.filters.network.rbac',
      typed_config: {
        '@type': `${T}envoy.extensions.filters.network.rbac.v3.RBAC`,
        rules: { policies: { 'ns[manager]-policy[allow-mesh]-rule[0]': { permissions: [{ and_rules: { rules: [{ any: true }] } }], principals: [{ and_ids: { ids: [{ or_ids: { ids: [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/manager/sa/default' } } }] } }] } }] } } },
        stat_prefix: 'tcp.',
      },
    },
  ];
}

function svc(i: number): string {
  return `svc-${i}.ns-${i % 97}.svc.cluster.local`;
}

function vip(i: number): string {
  return `10.96.${(i >> 8) & 255}.${i & 255}`;
}

function tcpChain(cluster: string, prefix: string | null) {
  return {
    ...(prefix ? { filter_chain_match: { prefix_ranges: [{ address_prefix: prefix, prefix_len: 32 }] } } : {}),
    filters: [
      ...observers(),
      { name: 'istio.stats', typed_config: { '@type': `${T}udpa.type.v1.TypedStruct`, type_url: `${T}stats.PluginConfig`, value: { reporter: 'CLIENT', disable_host_header_fallback: true } } },
      { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': `${T}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`, stat_prefix: cluster, cluster, access_log: accessLog(), idle_timeout: '3600s' } },
    ],
  };
}

function listenerJson(i: number, port: number) {
  const chains = [];
  for (let c = 0; c < CHAINS_PER_LISTENER - 1; c++) {
    const n = (i * CHAINS_PER_LISTENER + c) % CLUSTERS;
    chains.push(tcpChain(`outbound|${port}||${svc(n)}`, vip(i * CHAINS_PER_LISTENER + c)));
  }
  chains.push(tcpChain(port === 5701 ? 'outbound|5701||app-ext.app.svc.cluster.local' : 'PassthroughCluster', null));
  const listener = {
    '@type': `${T}envoy.config.listener.v3.Listener`,
    name: `0.0.0.0_${port}`,
    address: { socket_address: { address: '0.0.0.0', port_value: port } },
    filter_chains: chains,
    listener_filters: [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': `${T}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector` } }],
    traffic_direction: 'OUTBOUND',
    bind_to_port: false,
  };
  return { name: listener.name, active_state: { version_info: '2026-11-20T10:00:00Z/7', listener, last_updated: '2026-11-20T10:00:00.000Z' } };
}

function clusterJson(i: number) {
  const name = i === 0 ? 'outbound|5701||app-ext.app.svc.cluster.local' : `outbound|${10000 + (i % LISTENERS)}||${svc(i)}`;
  const cluster = {
    '@type': `${T}envoy.config.cluster.v3.Cluster`,
    name,
    type: i === 0 ? 'STRICT_DNS' : 'EDS',
    ...(i === 0
      ? { load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'idle.idle.svc.cluster.local', port_value: 5701 } } } }] }] } }
      : { eds_cluster_config: { eds_config: { ads: {}, initial_fetch_timeout: '0s', resource_api_version: 'V3' }, service_name: name } }),
    connect_timeout: '10s',
    circuit_breakers: { thresholds: [{ max_connections: 4294967295, max_pending_requests: 4294967295, max_requests: 4294967295, max_retries: 4294967295, track_remaining: true }] },
    metadata: { filter_metadata: { istio: { services: [{ host: svc(i), name: `svc-${i}`, namespace: `ns-${i % 97}` }], default_original_port: 10000 } } },
    common_lb_config: { locality_weighted_lb_config: {} },
    outlier_detection: { consecutive_5xx: 5, interval: '10s', base_ejection_time: '30s', max_ejection_percent: 10, enforcing_consecutive_gateway_failure: 0, enforcing_success_rate: 0 },
    typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`, common_http_protocol_options: { idle_timeout: '3600s', max_connection_duration: '0s' }, use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: { max_concurrent_streams: 1073741824 } } } },
    transport_socket_matches: [
      {
        name: 'tlsMode-istio',
        match: { tlsMode: 'istio' },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': `${T}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
            common_tls_context: {
              tls_params: { tls_minimum_protocol_version: 'TLSv1_2', tls_maximum_protocol_version: 'TLSv1_3' },
              alpn_protocols: ['istio-peer-exchange', 'istio'],
              tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { api_config_source: { api_type: 'GRPC', transport_api_version: 'V3', grpc_services: [{ envoy_grpc: { cluster_name: 'sds-grpc' } }], set_node_on_first_message_only: true }, initial_fetch_timeout: '0s', resource_api_version: 'V3' } }],
            },
            sni: `outbound_.${10000 + (i % LISTENERS)}_._.${svc(i)}`,
          },
        },
      },
      { name: 'tlsMode-disabled', match: {}, transport_socket: { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': `${T}envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer` } } },
    ],
  };
  return { version_info: '2026-11-20T10:00:00Z/7', cluster, last_updated: '2026-11-20T10:00:00.000Z' };
}

async function generate(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  const put = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((resolve) => out.once('drain', () => resolve())));
  await put(`{"configs":[{"@type":"${T}envoy.admin.v3.BootstrapConfigDump","bootstrap":{"node":{"id":"sidecar~10.244.1.5~manager-a.manager~manager.svc.cluster.local","metadata":{"ISTIO_VERSION":"1.24.3"}}}},`);
  await put(`{"@type":"${T}envoy.admin.v3.ClustersConfigDump","static_clusters":[],"dynamic_active_clusters":[`);
  for (let i = 0; i < CLUSTERS; i++) await put((i ? ',' : '') + JSON.stringify(clusterJson(i)));
  await put(`]},{"@type":"${T}envoy.admin.v3.ListenersConfigDump","dynamic_listeners":[`);
  const outbound = {
    name: 'virtualOutbound',
    active_state: { listener: { name: 'virtualOutbound', address: { socket_address: { address: '0.0.0.0', port_value: 15001 } }, use_original_dst: true, filter_chains: [{ name: 'virtualOutbound-catchall-tcp', ...tcpChain('PassthroughCluster', null) }] } },
  };
  await put(JSON.stringify(outbound));
  // Port 5701 is one of them: the seed's catch-all, deep in the middle of the file.
  const seedAt = Math.floor(LISTENERS / 2);
  for (let i = 0; i < LISTENERS - 1; i++) await put(`,${JSON.stringify(listenerJson(i, i === seedAt ? 5701 : 10000 + i))}`);
  await put(']}]}\n');
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  renameSync(tmp, file);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeChild(args: string[]): { ms: number; stdout: string } {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.slice(0, 3).join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, stdout: result.stdout };
}

if (!existsSync(file)) {
  console.log(`generating ${file} (${LISTENERS} listeners, ${LISTENERS * CHAINS_PER_LISTENER} filter chains, ${CLUSTERS} clusters)…`);
  await generate();
}
const sizeMb = statSync(file).size / 1e6;

const explainMs: number[] = [];
const parseMs: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const parse = timeChild(['-e', 'JSON.parse(fs.readFileSync(process.argv[1]))', file]);
  parseMs.push(parse.ms);
  const result = timeChild([podpath, 'explain', '--config-dump', file, '--dst', '10.244.77.7:5701', '--json']);
  explainMs.push(result.ms);
  // A benchmark that answers wrongly measures nothing: check the verdict every run.
  const verdict = (JSON.parse(result.stdout) as { verdict: string }).verdict;
  if (verdict !== 'captured') throw new Error(`explain answered ${verdict}, expected captured`);
}

const ours = median(explainMs);
const ref = median(parseMs);
printRatio({
  name: `explain on a ${sizeMb.toFixed(0)} MB dump (${LISTENERS} listeners, ${LISTENERS * CHAINS_PER_LISTENER} chains, ${CLUSTERS} clusters) vs JSON.parse alone`,
  measured: `podpath explain ${(ours / 1000).toFixed(2)} s (median of ${RUNS}, child process incl. start-up and read)`,
  reference: `node -e "JSON.parse(fs.readFileSync(f))" ${(ref / 1000).toFixed(2)} s (median of ${RUNS})`,
  ratio: ours / ref,
  target: { max: 2 },
});
