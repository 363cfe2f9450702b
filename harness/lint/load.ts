/**
 * One parse pass over each input with the `yaml` package's Document API and a LineCounter, so
 * every resource (and any node inside it) maps back to `file:line`. Multi-document streams and
 * `kind: List` (what `kubectl get ... -o yaml` prints) both yield one Resource per object.
 * Nothing is converted to plain JS: rules read the nodes they need, which keeps lint close to
 * the cost of parsing alone.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { UsageError } from '../errors/index.ts';
import type { LintInput } from './types.ts';

export interface Resource {
  apiVersion: string;
  kind: string;
  name: string;
  /** null for cluster-scoped kinds and for namespaced objects that name no namespace. */
  namespace: string | null;
  file: string;
  line: number;
  node: YAMLMap;
  /** Resolves YAML aliases and positions for nodes of this resource. */
  source: Source;
}

export class Source {
  readonly file: string;
  private readonly counter: LineCounter;
  private readonly doc: Document.Parsed;

  constructor(file: string, counter: LineCounter, doc: Document.Parsed) {
    this.file = file;
    this.counter = counter;
    this.doc = doc;
  }

  /** 1-based line where a node starts. */
  lineOf(node: unknown, fallback: number): number {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.counter.linePos(range[0]).line : fallback;
  }

  deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }
}

/** A mapping's value node for `key` (aliases resolved), or undefined. */
export function field(source: Source, node: unknown, key: string): unknown {
  const map = source.deref(node);
  if (!isMap(map)) return undefined;
  for (const pair of map.items) {
    const k = pair.key;
    if (isScalar(k) && k.value === key) return source.deref(pair.value);
  }
  return undefined;
}

export function str(node: unknown): string | null {
  if (!isScalar(node)) return null;
  const v = node.value;
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : null;
}

export function num(node: unknown): number | null {
  if (!isScalar(node)) return null;
  const v = node.value;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return null;
}

export function seqItems(source: Source, node: unknown): unknown[] {
  const seq = source.deref(node);
  return isSeq(seq) ? seq.items.map((i) => source.deref(i)) : [];
}

export function stringList(source: Source, node: unknown): string[] {
  return seqItems(source, node).map(str).filter((s): s is string => s !== null);
}

/** A string→string mapping (labels, annotations, env maps); non-scalar values are skipped. */
export function stringMap(source: Source, node: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const map = source.deref(node);
  if (!isMap(map)) return out;
  for (const pair of map.items) {
    const k = str(pair.key);
    const v = str(source.deref(pair.value));
    if (k !== null && v !== null) out[k] = v;
  }
  return out;
}

function invalid(path: string, line: number, col: number, message: string, cause?: unknown): UsageError {
  return new UsageError(`lint: ${path}:${line}:${col}: ${message}`, {
    hint: 'Fix the YAML (kubectl apply --dry-run=client -f FILE shows the same problem) and run podpath lint again.',
    cause,
  });
}

/** A YAML mapping that is not a Kubernetes object (a Helm values file, a kind-less kustomization). */
export interface Skipped {
  file: string;
  line: number;
  reason: string;
}

function toResource(path: string, source: Source, node: unknown, fallbackLine: number, out: Resource[], skipped: Skipped[]): void {
  const line = source.lineOf(node, fallbackLine);
  if (!isMap(node)) {
    throw invalid(path, line, 1, 'expected a Kubernetes object (a mapping with apiVersion and kind)');
  }
  const kind = str(field(source, node, 'kind'));
  const apiVersion = str(field(source, node, 'apiVersion')) ?? '';
  if (kind === null) {
    skipped.push({ file: path, line, reason: 'a mapping without kind is not a Kubernetes object' });
    return;
  }
  if (kind === 'List' || (kind.endsWith('List') && isSeq(field(source, node, 'items')))) {
    for (const item of seqItems(source, field(source, node, 'items'))) toResource(path, source, item, line, out, skipped);
    return;
  }
  const metadata = field(source, node, 'metadata');
  out.push({
    apiVersion,
    kind,
    name: str(field(source, metadata, 'name')) ?? str(field(source, metadata, 'generateName')) ?? '',
    namespace: str(field(source, metadata, 'namespace')),
    file: path,
    line,
    node,
    source,
  });
}

/**
 * Parses every input; throws UsageError `lint: FILE:LINE:COL: ...` on the first YAML error or a
 * document that is not a mapping. Mappings without `kind` are left out and listed in `skipped`.
 * With `onInputError`, a document that cannot be read is reported there and left out instead,
 * and every other document is still read.
 */
export function loadResources(inputs: readonly LintInput[], skipped: Skipped[] = [], onInputError?: (error: UsageError) => void): Resource[] {
  const out: Resource[] = [];
  for (const input of inputs) {
    const counter = new LineCounter();
    const docs = parseAllDocuments(input.text, { lineCounter: counter });
    if (!Array.isArray(docs)) continue; // an empty stream
    for (const doc of docs) {
      try {
        const error = doc.errors[0];
        if (error) {
          const pos = error.linePos?.[0] ?? counter.linePos(error.pos[0]);
          throw invalid(input.path, pos.line, pos.col, error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, ''), error);
        }
        const contents = doc.contents;
        if (contents === null || (isScalar(contents) && contents.value === null)) continue; // empty document
        const source = new Source(input.path, counter, doc);
        const before = out.length;
        try {
          toResource(input.path, source, contents, 1, out, skipped);
        } catch (error) {
          out.length = before; // a List whose later item is bad is left out whole
          throw error;
        }
      } catch (error) {
        if (onInputError === undefined || !(error instanceof UsageError)) throw error;
        onInputError(error);
      }
    }
  }
  return out;
}
