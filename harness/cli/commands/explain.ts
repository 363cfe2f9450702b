import type { Command } from '../command.ts';
import { paint, write } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { parseByteSize } from '../size.ts';
import { DEFAULT_DUMP_LIMITS, DEFAULT_MAX_DUMP_BYTES, explain, parseDestination, parseIp, readConfigDump, renderExplanation, type Explanation, type ExplainQuery } from '../../envoy/index.ts';

function stringValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`explain: --${flag} must be ${allowed.join(' or ')}, not '${value}'`, { hint: "Run 'podpath explain --help' for usage." });
}

/** Exactly the keys the issue specifies for --json, in that order. */
function toJson(e: Explanation): string {
  return `${JSON.stringify(
    {
      dst: e.dst,
      direction: e.direction,
      listener: e.listener,
      filterChain: e.filterChain ? { index: e.filterChain.index, name: e.filterChain.name, match: e.filterChain.match } : null,
      route: e.route ? { config: e.route.config, virtualHost: e.route.virtualHost, route: e.route.route } : null,
      cluster: e.cluster ? { name: e.cluster.name, type: e.cluster.type, endpoints: e.cluster.endpoints } : null,
      verdict: e.verdict,
      steps: e.steps,
      missing: e.missing,
    },
    null,
    2,
  )}\n`;
}

export const explainCommand: Command = {
  name: 'explain',
  summary: "Predict the path of a connection from a sidecar's Envoy config dump (offline)",
  usage: '--config-dump FILE|- --dst IP:PORT [--host H] [--sni S] [--inbound] [--transport tls|raw_buffer] [--json]',
  details: [
    'Walks the dump the way Envoy does: original destination → listener (IP_PORT, else 0.0.0.0_PORT or',
    '[::]_PORT, else virtualOutbound) → filter chain → tcp_proxy, or HTTP route → cluster → endpoints.',
    '',
    'Get a dump:  istioctl proxy-config all POD.NS -o json > dump.json',
    '        or:  kubectl exec POD -c istio-proxy -- pilot-agent request GET config_dump > dump.json',
    'Also read: the array `istioctl proxy-config listeners POD.NS -o json` prints, .gz files, - for stdin.',
    '',
    'Verdicts: passthrough, service, captured (a service cluster that does not own the destination),',
    'blackhole, rejected (no filter chain / route, or Envoy rejected the listener), no-healthy-upstream',
    '(the service has no endpoints), unknown (the dump lacks something, or is not a sidecar\'s; see "missing").',
    '',
    'Examples:',
    '  podpath explain --config-dump dump.json --dst 10.244.1.7:5701',
    '  podpath explain --config-dump dump.json --dst 10.244.2.9:8080 --host app.app.svc.cluster.local',
    '  podpath explain --config-dump server.json --dst 10.244.1.7:5701 --inbound --transport raw_buffer',
    '',
    `Input cap: ${DEFAULT_MAX_DUMP_BYTES >> 20} MiB read from a file or stdin, and ${DEFAULT_MAX_DUMP_BYTES >> 20} MiB after gunzip (a gzip bomb`,
    'stops there); raise it with --max-dump-size.',
    '',
    'Exit codes: 0 a verdict was computed (any verdict), 2 unusable input (not JSON, not a dump, too large, bad --dst).',
  ].join('\n'),
  options: {
    'config-dump': { type: 'string', valueName: 'FILE', description: 'config dump (JSON, .gz, or - for stdin)' },
    dst: { type: 'string', valueName: 'IP:PORT', description: 'the address the client dials, e.g. 10.244.1.7:5701 or [fd00::7]:5701' },
    host: { type: 'string', valueName: 'HOST', description: 'HTTP Host header (default: the IP:PORT itself, as a client dialling a pod IP sends)' },
    sni: { type: 'string', valueName: 'NAME', description: 'TLS server name the client sends (implies --transport tls)' },
    inbound: { type: 'boolean', description: "explain the server side: the sidecar's virtualInbound (15006)" },
    transport: { type: 'string', valueName: 'PROTO', description: 'tls or raw_buffer (default raw_buffer: plaintext)' },
    protocol: { type: 'string', valueName: 'PROTO', description: 'tcp or http (default http when --host/--path is given, else tcp)' },
    path: { type: 'string', valueName: 'PATH', description: 'HTTP request path for route matching (default /)' },
    src: { type: 'string', valueName: 'IP', description: 'client IP, only needed when chains match on source' },
    json: { type: 'boolean', description: 'print the explanation as JSON' },
    'max-dump-size': { type: 'string', valueName: 'SIZE', description: `largest dump read or decompressed, e.g. 1G (default ${DEFAULT_MAX_DUMP_BYTES >> 20}M)` },
  },
  allowPositionals: false,
  async run({ values, io }) {
    const file = stringValue(values['config-dump']);
    const dst = stringValue(values.dst);
    if (!file) throw new UsageError('explain: --config-dump FILE is required', { hint: 'Capture one with `istioctl proxy-config all POD.NS -o json > dump.json`, or pass - for stdin.' });
    if (!dst) throw new UsageError('explain: --dst IP:PORT is required', { hint: 'Give the address the client dials, e.g. --dst 10.244.1.7:5701.' });
    // Check the cheap argument before reading a possibly huge file.
    if (!parseDestination(dst)) {
      throw new UsageError(`explain: --dst '${dst}' is not IP:PORT`, { hint: 'Give the address the client dials, e.g. --dst 10.244.1.7:5701 or --dst [fd00::7]:5701.' });
    }
    const src = stringValue(values.src);
    if (src !== undefined && !parseIp(src)) {
      throw new UsageError(`explain: --src '${src}' is not an IP address`, { hint: 'Give the client pod IP, e.g. --src 10.244.1.5.' });
    }
    const query: ExplainQuery = {
      dst,
      host: stringValue(values.host),
      sni: stringValue(values.sni),
      inbound: values.inbound === true,
      transport: oneOf('transport', stringValue(values.transport), ['tls', 'raw_buffer'] as const),
      protocol: oneOf('protocol', stringValue(values.protocol), ['tcp', 'http'] as const),
      path: stringValue(values.path),
      src,
    };
    const maxSize = stringValue(values['max-dump-size']);
    const limits = maxSize === undefined ? DEFAULT_DUMP_LIMITS : { ...DEFAULT_DUMP_LIMITS, maxBytes: parseByteSize('explain: --max-dump-size', maxSize) };
    const dump = await readConfigDump(file, io.stdin, limits);
    const explanation = explain(dump, query);
    await write(io.stdout, values.json ? toJson(explanation) : renderExplanation(explanation, (style, text) => paint(style, text, io.stdout)));
    return 0;
  },
};
