/**
 * Loads manifests/ as typed documents. The agent ConfigMap is generated here from
 * harness/workload/agent.ts itself, so no YAML ever holds a stale copy of the agent.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../errors/index.ts';
import { AGENT_CONFIGMAP, AGENT_FILE, EXTRAS, NAMESPACES, PART_OF, isExtraName } from '../../manifests/topology.ts';

export type KubeDocument = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MANIFESTS_DIR = path.join(REPO_ROOT, 'manifests');
export const AGENT_PATH = fileURLToPath(new URL('../workload/agent.ts', import.meta.url));
/** Pod-template annotation carrying the agent's hash, so a changed agent rolls the pods. */
export const AGENT_HASH_ANNOTATION = 'podpath.io/agent-sha256';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse multi-document YAML into KubeDocuments; comments-only documents are skipped. */
export function parseDocuments(text: string, file: string): KubeDocument[] {
  const docs: KubeDocument[] = [];
  for (const doc of parseAllDocuments(text, { prettyErrors: true })) {
    const error = doc.errors[0];
    if (error) {
      const line = error.linePos?.[0].line ?? 0;
      throw new UsageError(`${file}:${line}: invalid YAML: ${error.message.split('\n')[0]}`, { cause: error });
    }
    const line = doc.contents ? lineOf(text, doc.contents.range?.[0] ?? 0) : 0;
    let value: unknown;
    try {
      // The yaml library refuses aliases that expand too far (billion laughs) with a ReferenceError.
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      throw new UsageError(`${file}:${line}: refused: ${error instanceof Error ? error.message : String(error)} (YAML aliases expand too far)`, {
        hint: 'Write the manifest out without anchors and aliases (*name), as kubectl get -o yaml prints it.',
        cause: error,
      });
    }
    if (value === null || value === undefined) continue;
    if (!isRecord(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || !isRecord(value.metadata) || typeof value.metadata.name !== 'string') {
      throw new UsageError(`${file}:${line}: not a Kubernetes object (needs apiVersion, kind and metadata.name)`);
    }
    docs.push(value as KubeDocument);
  }
  return docs;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

async function loadFile(file: string): Promise<KubeDocument[]> {
  return parseDocuments(await readFile(file, 'utf8'), path.relative(REPO_ROOT, file));
}

/** One ConfigMap per namespace (a pod can only mount its own namespace's ConfigMaps). */
export function agentConfigMaps(agentSource: string): KubeDocument[] {
  return NAMESPACES.map((namespace) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: AGENT_CONFIGMAP, namespace, labels: { ...PART_OF } },
    data: { [AGENT_FILE]: agentSource },
  }));
}

function stampAgentHash(doc: KubeDocument, hash: string): KubeDocument {
  if (doc.kind !== 'Deployment') return doc;
  const spec = doc.spec;
  if (!isRecord(spec) || !isRecord(spec.template)) return doc;
  const template = spec.template;
  const metadata = isRecord(template.metadata) ? template.metadata : {};
  const annotations = isRecord(metadata.annotations) ? metadata.annotations : {};
  return { ...doc, spec: { ...spec, template: { ...template, metadata: { ...metadata, annotations: { ...annotations, [AGENT_HASH_ANNOTATION]: hash } } } } };
}

/** A Deployment without the agent-hash stamp: what istiod is given by the oracle and predict, so the stamp never changes their inputs. */
export function withoutAgentStamp(doc: KubeDocument): KubeDocument {
  const spec = doc.spec;
  if (doc.kind !== 'Deployment' || !isRecord(spec) || !isRecord(spec.template)) return doc;
  const metadata = isRecord(spec.template.metadata) ? spec.template.metadata : {};
  if (!isRecord(metadata.annotations) || !(AGENT_HASH_ANNOTATION in metadata.annotations)) return doc;
  const { [AGENT_HASH_ANNOTATION]: _stamp, ...annotations } = metadata.annotations;
  return { ...doc, spec: { ...spec, template: { ...spec.template, metadata: { ...metadata, annotations } } } };
}

const KIND_ORDER: Record<string, number> = { Namespace: 0, ConfigMap: 1 };

/** Namespaces, agent ConfigMaps (agent.ts as it is on disk), Deployments and Services, in apply order. */
export async function baselineDocuments(): Promise<KubeDocument[]> {
  const dir = path.join(MANIFESTS_DIR, 'base');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const agentSource = await readFile(AGENT_PATH, 'utf8');
  const hash = createHash('sha256').update(agentSource).digest('hex').slice(0, 16);
  const loaded: KubeDocument[] = [];
  for (const file of files) loaded.push(...(await loadFile(path.join(dir, file))));
  const docs = [...loaded, ...agentConfigMaps(agentSource)].map((d) => stampAgentHash(d, hash));
  // Stable sort: namespaces first, then what pods mount, then workloads in topology order (manager, app, idle).
  const nsRank = (d: KubeDocument): number => {
    const i = (NAMESPACES as readonly string[]).indexOf(d.metadata.namespace ?? '');
    return i < 0 ? NAMESPACES.length : i;
  };
  return docs
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (KIND_ORDER[a.d.kind] ?? 2) - (KIND_ORDER[b.d.kind] ?? 2) || ((KIND_ORDER[a.d.kind] ?? 2) === 2 ? nsRank(a.d) - nsRank(b.d) : 0) || a.i - b.i)
    .map((x) => x.d);
}

export function extraPath(name: string): string {
  return path.join(MANIFESTS_DIR, 'extras', `${name}.yaml`);
}

/** The documents of one scenario extra (manifests/extras/NAME.yaml). */
export async function extraDocuments(name: string): Promise<KubeDocument[]> {
  if (!isExtraName(name)) {
    throw new UsageError(`unknown manifest extra ${JSON.stringify(name)}`, { hint: `Known extras: ${EXTRAS.join(', ')}.` });
  }
  return loadFile(extraPath(name));
}
