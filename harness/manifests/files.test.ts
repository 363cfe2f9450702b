import test from 'ava';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempDir } from '../testing/temp-dir.ts';
import { manifestFilesUnder } from './files.ts';

test('manifest files under a directory: recursive, name order, YAML/JSON only; hidden directories only when asked', async (t) => {
  const dir = await tempDir('podpath-manifest-files-');
  await mkdir(path.join(dir, 'b'));
  await mkdir(path.join(dir, '.git'));
  for (const f of ['c.yaml', 'a.yml', 'notes.txt', 'b/z.json', '.git/HEAD.yaml']) await writeFile(path.join(dir, f), 'kind: Service\n');
  await symlink(path.join(dir, 'c.yaml'), path.join(dir, 'd-link.yaml'));
  const rel = (files: string[]) => files.map((f) => path.relative(dir, f));
  t.deepEqual(rel(await manifestFilesUnder(dir)), ['.git/HEAD.yaml', 'a.yml', 'b/z.json', 'c.yaml', 'd-link.yaml']);
  t.deepEqual(rel(await manifestFilesUnder(dir, { skipHiddenDirs: true })), ['a.yml', 'b/z.json', 'c.yaml', 'd-link.yaml']);
});
