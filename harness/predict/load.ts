/**
 * Reading what `podpath predict` is given: manifest files and directories, a mesh config file.
 * The only I/O of the predict concern besides the generator; everything after is pure.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { UsageError } from '../errors/index.ts';
import { manifestFilesUnder, parseDocuments, type KubeDocument } from '../manifests/index.ts';
import { parseMeshConfig, type MeshConfigSource } from './model.ts';

/** Every manifest file under the paths, directories walked recursively, each directory's files in name order. */
export async function manifestFiles(paths: readonly string[], cwd: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const full = path.resolve(cwd, p);
    let info;
    try {
      info = await stat(full);
    } catch {
      throw new UsageError(`predict: cannot read ${p}: no such file or directory`, { hint: 'Give manifest files or directories with -f.' });
    }
    if (info.isDirectory()) {
      const found = await manifestFilesUnder(full, { skipHiddenDirs: true });
      out.push(...found);
      if (found.length === 0) throw new UsageError(`predict: ${p} holds no .yaml, .yml or .json files`);
    } else out.push(full);
  }
  return out;
}

/** `kind: List` (what `kubectl get -o yaml` prints) opened into its items, before the strict per-object parse. */
function openLists(text: string): string {
  if (!/^kind:\s*["']?List["']?\s*$/m.test(text)) return text;
  const docs = parseAllDocuments(text);
  if (docs.some((d) => d.errors.length > 0)) return text;
  return docs.map((d) => {
    const value: unknown = d.toJS({ maxAliasCount: 100 });
    const items = typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'List' ? (value as { items?: unknown }).items : undefined;
    return Array.isArray(items) ? items.map((i) => stringify(i)).join('---\n') : String(d);
  }).join('---\n');
}

/** The documents of every file, in order (later ones replace earlier ones with the same kind/namespace/name). */
export async function loadManifests(paths: readonly string[], cwd: string): Promise<{ files: string[]; documents: KubeDocument[] }> {
  const files = await manifestFiles(paths, cwd);
  const documents: KubeDocument[] = [];
  for (const file of files) {
    const shown = path.relative(cwd, file) || file;
    documents.push(...parseDocuments(openLists(await readFile(file, 'utf8')), shown));
  }
  return { files, documents };
}

export async function loadMeshConfig(file: string, cwd: string): Promise<MeshConfigSource> {
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, file), 'utf8');
  } catch {
    throw new UsageError(`predict: cannot read --mesh-config ${file}`, { hint: 'Give an IstioOperator file, or a file holding a meshConfig block.' });
  }
  return parseMeshConfig(text, file);
}
