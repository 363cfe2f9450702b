/** Finding manifest files: what `lint` and `predict` read when given a directory. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';

const MANIFEST_FILE = /\.(ya?ml|json)$/;

/**
 * The .yaml, .yml and .json files under dir, recursively, each directory's entries in name order.
 * Entries that are not directories (files, symlinks to files) count by name. skipHiddenDirs leaves
 * out directories whose name starts with a dot (.git, .helm caches).
 */
export async function manifestFilesUnder(dir: string, options: { skipHiddenDirs?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!(options.skipHiddenDirs && e.name.startsWith('.'))) out.push(...(await manifestFilesUnder(full, options)));
    } else if (MANIFEST_FILE.test(e.name)) out.push(full);
  }
  return out;
}
