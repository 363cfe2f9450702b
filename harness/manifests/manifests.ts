/**
 * Loads manifests/ as typed documents. The agent ConfigMap is generated here from the agent's
 * files themselves (harness/workload/agent.ts and what it imports), read as text, so no YAML
 * ever holds a stale copy of the agent.
 */
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../errors/index.ts';
import type { KubeDocument } from '../kube/index.ts';
import { AGENT_CONFIGMAP, AGENT_ENTRY, AGENT_FILES, AGENT_MOUNT, EXTRAS, NAMESPACES, PART_OF, isExtraName, type AgentFile } from '../../manifests/topology.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MANIFESTS_DIR = path.join(REPO_ROOT, 'manifests');
const HARNESS_DIR = fileURLToPath(new URL('../', import.meta.url));
/** Where a shipped agent file lives in the repo: its volume path, under harness/. */
export function agentSourcePath(file: Pick<AgentFile, 'path'>): string {
  return path.join(HARNESS_DIR, file.path);
}
/** The agent's entry file in the repo (what the container runs as AGENT_ENTRY). */
export const AGENT_PATH = agentSourcePath({ path: path.posix.relative(AGENT_MOUNT, AGENT_ENTRY) });
/** Pod-template annotation carrying the hash of every shipped agent file, so a change in any of them rolls the pods. */
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

/** The text of every file the agent ConfigMap ships, by key, read from the repo as it is on disk. */
export async function agentFiles(): Promise<Record<string, string>> {
  const entries = await Promise.all(AGENT_FILES.map(async (file) => [file.key, await readFile(agentSourcePath(file), 'utf8')] as const));
  return Object.fromEntries(entries);
}

/** One hash over every shipped file, key and text: changing either file (or the layout) changes it. */
export function agentHash(files: Record<string, string>): string {
  const hash = createHash('sha256');
  for (const key of Object.keys(files).sort()) hash.update(`${key}\0${files[key]}\0`);
  return hash.digest('hex').slice(0, 16);
}

/** One ConfigMap per namespace (a pod can only mount its own namespace's ConfigMaps). */
export function agentConfigMaps(files: Record<string, string>): KubeDocument[] {
  return NAMESPACES.map((namespace) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: AGENT_CONFIGMAP, namespace, labels: { ...PART_OF } },
    data: { ...files },
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

/** Namespaces, agent ConfigMaps (the agent's files as they are on disk), Deployments and Services, in apply order. */
export async function baselineDocuments(): Promise<KubeDocument[]> {
  const dir = path.join(MANIFESTS_DIR, 'base');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const shipped = await agentFiles();
  const hash = agentHash(shipped);
  const loaded: KubeDocument[] = [];
  for (const file of files) loaded.push(...(await loadFile(path.join(dir, file))));
  const docs = [...loaded, ...agentConfigMaps(shipped)].map((d) => stampAgentHash(d, hash));
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
