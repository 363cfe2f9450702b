/**
 * Incident files (`podpath repro INCIDENT.yaml`): what a user reported (Istio version, mesh
 * settings, manifests, the failing connection, the log lines they saw) turned into a one-off
 * scenario for a live bed, or diagnosed offline (accesslog diagnose + lint + explain).
 */
import { readFile, realpath } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isExtraName } from '../../manifests/topology.ts';
import { UsageError } from '../errors/index.ts';
import { decodeCluster, diagnose, parseLogText, type AccessLogEntry, type Diagnosis } from '../accesslog/index.ts';
import { isKnownIstio, lint, parseIstioVersion, type Finding } from '../lint/index.ts';
import { DEFAULT_DUMP_LIMITS, DumpTooLargeError, explain, loadConfigDump, parseDumpJson, readDumpFile, type Explanation } from '../envoy/index.ts';
import type { ProbeOutcome } from '../probe/index.ts';
import type { ExpectationRule, MtlsMode, ProbeTarget, Scenario, WorkloadName } from './scenario.ts';

export interface IncidentManifest {
  /** Where it came from, for lint findings (file:line). */
  source: string;
  text: string;
  /** Set when the manifest is one of podpath's extras by name. */
  extra: string | null;
}

export interface Incident {
  id: string;
  title: string;
  file: string;
  istio: { version: string; pilotEnv: Record<string, string> };
  mesh: { connectTimeout: string | null; mtls: MtlsMode | null };
  manifests: IncidentManifest[];
  /**
   * `from` is the bed workload a live repro plays the connection from; null when the incident
   * names another pod (`fromText`, NAMESPACE/POD) or none, which only an offline diagnosis takes.
   */
  connection: { from: WorkloadName | null; fromText: string | null; to: ProbeTarget; port: number; protocol: 'tcp' | 'http'; dst: string | null };
  reported: { outcome: ProbeOutcome | null; client: string | null; server: string | null };
  configDump: unknown | null;
  seed: string | null;
}

const WORKLOADS = ['manager', 'app', 'idle'];
const OUTCOMES = ['echoed', 'answered', 'closed-after-connect', 'refused', 'reset', 'timeout', 'unreachable', 'error'];

function fail(file: string, what: string): never {
  throw new UsageError(`${file}: ${what}`, { hint: 'See docs/scenarios.md ("Incident files") for the format.' });
}

function obj(value: unknown, file: string, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(file, `${where} must be a mapping`);
  return value as Record<string, unknown>;
}

function text(value: unknown, file: string, where: string): string {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string' || value.trim() === '') fail(file, `${where} must be a non-empty string`);
  return value;
}

function env(value: unknown, file: string, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  return Object.fromEntries(Object.entries(obj(value, file, where)).map(([k, v]) => [k, String(v)]));
}

/**
 * Kinds a live repro may apply from an incident file: the objects that shape a mesh path.
 * Incident files come from other people; workloads, RBAC, webhooks and anything cluster-scoped
 * could run code on or take over the bed, so they are refused.
 */
export const INCIDENT_KINDS: readonly string[] = [
  'Service', 'Endpoints', 'EndpointSlice',
  'ServiceEntry', 'VirtualService', 'DestinationRule', 'Sidecar', 'WorkloadEntry', 'Gateway',
  'PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication',
];

/** Refuses a manifest kind a live repro does not apply. */
export function checkIncidentKind(kind: string, source: string): void {
  if (!INCIDENT_KINDS.includes(kind)) {
    throw new UsageError(`${source}: a live repro does not apply kind ${kind}`, {
      hint: `Incident manifests may hold ${INCIDENT_KINDS.join(', ')} (docs/scenarios.md); apply anything else yourself, or use --offline.`,
    });
  }
}

export interface LoadIncidentOptions {
  /** Folders besides the incident's own that `path:` entries may name (repro --allow-files-under). */
  allowUnder?: string[];
  /** Largest config dump read from `configDump.path` or decompressed from it (repro --max-dump-size). */
  maxDumpBytes?: number;
}

/** A `path:` entry, resolved (symlinks too) and kept inside the allowed folders. */
async function confined(file: string, roots: string[], relative: string, where: string): Promise<string> {
  const wanted = resolve(roots[0], relative);
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    fail(file, `${where}: cannot read ${relative}`);
  }
  for (const root of roots) if (real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`)) return real;
  throw new UsageError(`${file}: ${where}: ${relative} is outside the incident's folder`, {
    hint: "Incident files may only name files beside them; to allow another folder, pass --allow-files-under DIR.",
  });
}

/** Reads and checks an incident file; manifests and a config dump given by path are read from its folder only. */
export async function loadIncident(path: string, options: LoadIncidentOptions = {}): Promise<Incident> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : error instanceof Error ? error.message : String(error);
    throw new UsageError(`repro: ${path}: ${why}`, { hint: 'Give an incident file (docs/scenarios.md, "Incident files"), e.g. scenarios/incidents/hazelcast-externalname.yaml', cause: error });
  }
  // parseAllDocuments, not parse: the yaml package's own error for several documents tells users to call its API.
  const docs = parseAllDocuments(raw, { prettyErrors: true });
  const documents = (Array.isArray(docs) ? docs : [docs]).filter((d) => d.contents !== null);
  if (documents.length > 1) {
    fail(path, `holds ${documents.length} YAML documents; an incident file is one (put the manifests under manifests:, inline or by path)`);
  }
  const bad = documents[0]?.errors[0];
  if (bad) fail(path, `not valid YAML: ${bad.message.split('\n')[0]}`);
  let doc: unknown;
  try {
    doc = documents[0]?.toJS() ?? null;
  } catch (error) {
    // toJS throws on an alias bomb (yaml's maxAliasCount): say so in podpath's words, not a stack.
    fail(path, `not valid YAML: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
  const top = obj(doc, path, 'the incident');
  const roots: string[] = [];
  for (const dir of [dirname(resolve(path)), ...(options.allowUnder ?? [])]) {
    try {
      roots.push(await realpath(dir));
    } catch (error) {
      throw new UsageError(`--allow-files-under ${dir}: no such folder`, { cause: error });
    }
  }
  const istio = obj(top.istio, path, 'istio');
  const mesh = top.mesh === undefined ? {} : obj(top.mesh, path, 'mesh');
  const mtls = mesh.mtls === undefined ? null : text(mesh.mtls, path, 'mesh.mtls');
  if (mtls !== null && mtls !== 'STRICT' && mtls !== 'PERMISSIVE') fail(path, `mesh.mtls must be STRICT or PERMISSIVE, not ${mtls}`);

  const manifests: IncidentManifest[] = [];
  const list = top.manifests ?? [];
  if (!Array.isArray(list)) fail(path, 'manifests must be a list');
  for (const [i, item] of list.entries()) {
    const m = obj(item, path, `manifests[${i}]`);
    if (typeof m.extra === 'string') {
      if (!isExtraName(m.extra)) fail(path, `manifests[${i}].extra: no extra named ${JSON.stringify(m.extra)} (see manifests/extras/)`);
      const file = resolve(new URL('../../manifests/extras/', import.meta.url).pathname, `${m.extra}.yaml`);
      manifests.push({ source: `manifests/extras/${m.extra}.yaml`, text: await readFile(file, 'utf8').catch(() => fail(path, `manifests[${i}].extra: no extra named ${m.extra}`)), extra: m.extra });
    } else if (typeof m.path === 'string') {
      const file = await confined(path, roots, m.path, `manifests[${i}].path`);
      manifests.push({ source: m.path, text: await readFile(file, 'utf8').catch(() => fail(path, `manifests[${i}].path: cannot read ${m.path}`)), extra: null });
    } else if (typeof m.inline === 'string') {
      manifests.push({ source: `${path}#manifests[${i}]`, text: m.inline, extra: null });
    } else fail(path, `manifests[${i}] needs one of extra, path or inline`);
  }

  const c = obj(top.connection, path, 'connection');
  // A bed workload for a live repro; any NAMESPACE/POD (or nothing) is enough to diagnose offline.
  const fromText = c.from === undefined || c.from === null ? null : text(c.from, path, 'connection.from');
  if (fromText !== null && !WORKLOADS.includes(fromText) && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(fromText)) {
    fail(path, `connection.from must be a bed workload (${WORKLOADS.join(', ')}) or NAMESPACE/POD, not '${fromText}'`);
  }
  const from = fromText !== null && WORKLOADS.includes(fromText) ? (fromText as WorkloadName) : null;
  let to: ProbeTarget;
  const toValue = c.to;
  if (typeof toValue === 'string') to = toValue === 'other-manager' ? { pod: 'other-manager' } : WORKLOADS.includes(toValue) ? { pod: toValue as WorkloadName } : { service: toValue };
  else {
    const t = obj(toValue, path, 'connection.to');
    if (typeof t.pod === 'string' && (t.pod === 'other-manager' || WORKLOADS.includes(t.pod))) to = { pod: t.pod as WorkloadName };
    else if (typeof t.service === 'string') to = { service: t.service };
    else fail(path, 'connection.to must be other-manager, a workload (manager, app, idle) or { service: NAME }');
  }
  const port = Number(c.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail(path, 'connection.port must be a port number');
  const protocol = c.protocol === undefined ? 'tcp' : text(c.protocol, path, 'connection.protocol');
  if (protocol !== 'tcp' && protocol !== 'http') fail(path, 'connection.protocol must be tcp or http');

  const reported = top.reported === undefined ? {} : obj(top.reported, path, 'reported');
  const outcome = reported.outcome === undefined ? null : text(reported.outcome, path, 'reported.outcome');
  if (outcome !== null && !OUTCOMES.includes(outcome)) fail(path, `reported.outcome must be one of ${OUTCOMES.join(', ')}`);

  let configDump: unknown = null;
  if (top.configDump !== undefined) {
    const d = obj(top.configDump, path, 'configDump');
    if (typeof d.path === 'string') {
      const file = await confined(path, roots, d.path, 'configDump.path');
      const limits = { ...DEFAULT_DUMP_LIMITS, maxBytes: options.maxDumpBytes ?? DEFAULT_DUMP_LIMITS.maxBytes };
      const label = `${path}: configDump.path ${d.path}`;
      const bytes = await readDumpFile(file, label, limits).catch((error: unknown) => {
        if (error instanceof DumpTooLargeError) throw error;
        return fail(path, `configDump.path: cannot read ${d.path}`);
      });
      try {
        configDump = parseDumpJson(bytes, label, limits);
      } catch (error) {
        if (error instanceof DumpTooLargeError) throw error;
        // Never quote the content: the file may not be a dump at all.
        fail(path, `configDump.path: ${d.path} is not JSON`);
      }
    } else if (d.inline !== undefined) configDump = d.inline;
    else fail(path, 'configDump needs path or inline');
  }

  return {
    id: typeof top.id === 'string' ? top.id : 'incident',
    title: typeof top.title === 'string' ? top.title : 'reported incident',
    file: path,
    istio: { version: text(istio.version, path, 'istio.version'), pilotEnv: env(istio.pilotEnv, path, 'istio.pilotEnv') },
    mesh: { connectTimeout: mesh.connectTimeout === undefined ? null : text(mesh.connectTimeout, path, 'mesh.connectTimeout'), mtls: mtls as MtlsMode | null },
    manifests,
    connection: { from, fromText, to, port, protocol, dst: typeof c.dst === 'string' ? c.dst : null },
    reported: {
      outcome: outcome as ProbeOutcome | null,
      client: typeof reported.client === 'string' ? reported.client.trim() : null,
      server: typeof reported.server === 'string' ? reported.server.trim() : null,
    },
    configDump,
    seed: typeof top.seed === 'string' ? top.seed : null,
  };
}

function firstEntry(line: string | null, source: string): AccessLogEntry | null {
  if (line === null) return null;
  return parseLogText(`${line}\n`, { source }).entries[0] ?? null;
}

/** What the reporter saw, as an expectation: reproduced = the live bed shows the same path. */
export function reportedExpectation(incident: Incident): ExpectationRule {
  const client = firstEntry(incident.reported.client, 'reported client line');
  const server = firstEntry(incident.reported.server, 'reported server line');
  const rule: ExpectationRule = { versions: '*', outcome: incident.reported.outcome ?? 'echoed' };
  if (client) {
    // Reports often cut names (the seed's "outbound|5701||"): compare the cluster's kind, port and service only when given.
    const ref = decodeCluster(client.upstreamCluster);
    const name = client.upstreamCluster && ref.kind === 'outbound' ? `outbound|${ref.port ?? '*'}|${ref.subset ?? ''}|${ref.service ?? '*'}` : client.upstreamCluster ?? undefined;
    rule.client = { cluster: ref.kind, flags: [...client.responseFlags], ...(name ? { name } : {}) };
  }
  if (server) rule.server = { cluster: decodeCluster(server.upstreamCluster).kind, flags: [...server.responseFlags] };
  else if (client && client.responseFlags.some((f) => f === 'UF' || f === 'UH' || f === 'NR')) rule.server = 'absent';
  return rule;
}

/** The one-off scenario a live bed plays; manifests not named as extras are applied as `incident-N`. */
export function incidentScenario(incident: Incident): Scenario {
  const from = incident.connection.from;
  if (from === null) {
    throw new UsageError(`${incident.file}: connection.from ${incident.connection.fromText ?? '(not given)'} is not one of the bed's workloads (${WORKLOADS.join(', ')}): a live repro plays the connection from one of them`, {
      hint: 'Diagnose it without a bed: podpath repro INCIDENT.yaml --offline; or set connection.from to the bed workload that stands for the client.',
    });
  }
  return {
    id: `repro-${incident.id}`,
    title: incident.title,
    seed: incident.seed ?? incident.file,
    // Not the reported istiod env: repro attaches to the bed as it is, and says when its env differs.
    mesh: incident.mesh.mtls ? { mtls: incident.mesh.mtls } : {},
    apply: incident.manifests.map((m, i) => m.extra ?? `incident-${i}`),
    probes: [{ name: 'reported connection', from, to: incident.connection.to, port: incident.connection.port, protocol: incident.connection.protocol }],
    expect: [reportedExpectation(incident)],
  };
}

export interface OfflineDiagnosis {
  entries: AccessLogEntry[];
  diagnoses: Diagnosis[];
  findings: Finding[];
  explanation: Explanation | null;
  /** Why no explanation: no dump in the incident, or no destination to explain. */
  explainNote: string | null;
}

/**
 * A possible capture in the log becomes a warning, and says where, when the incident's own
 * manifests build a port-wide listener on that port (PP001/PP002 above info): evidence beyond
 * the log, though still not proof that the address dialled was a pod's.
 */
function corroborateCapture(diagnoses: Diagnosis[], findings: Finding[]): void {
  for (const d of diagnoses) {
    if (d.id !== 'pod-ip-capture-possible') continue;
    const ports = new Set(d.evidence.map((e) => e.cluster.port).filter((p): p is number => p !== null));
    const builders = findings.filter((f) => (f.rule === 'PP001' || f.rule === 'PP002') && f.severity !== 'info' && [...ports].some((p) => f.message.includes(`0.0.0.0_${p} listener`)));
    if (builders.length === 0) continue;
    d.severity = 'warning';
    d.meaning += ` The incident's manifests build such a listener: ${builders.map((f) => `${f.rule} ${f.resource} (${f.file}:${f.line})`).join(', ')}.`;
  }
}

export function diagnoseOffline(incident: Incident): OfflineDiagnosis {
  const lines = [incident.reported.client, incident.reported.server].filter((l): l is string => l !== null).join('\n');
  const { entries } = parseLogText(lines ? `${lines}\n` : '', { source: incident.file });
  const diagnoses = diagnose(entries);
  // A reported version the rules do not know is linted without version-specific severities rather than refused.
  const v = parseIstioVersion(incident.istio.version);
  const istio = v !== null && isKnownIstio(v) ? incident.istio.version : undefined;
  const findings = incident.manifests.length ? lint(incident.manifests.map((m) => ({ path: m.source, text: m.text })), { istio, pilotEnv: incident.istio.pilotEnv }) : [];
  corroborateCapture(diagnoses, findings);
  let explanation: Explanation | null = null;
  let explainNote: string | null = null;
  if (incident.configDump === null) explainNote = 'the incident has no configDump: nothing to explain';
  else if (incident.connection.dst === null) explainNote = 'connection.dst (IP:PORT) is missing: explain needs the destination the app dialled';
  else explanation = explain(loadConfigDump(incident.configDump), { dst: incident.connection.dst });
  return { entries, diagnoses, findings, explanation, explainNote };
}
