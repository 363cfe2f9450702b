import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ISTIO_MINORS, resolveIstio, VERSION_TABLE } from '../../harness/cluster/versions.ts';
import { replaceDocsTable } from '../../harness/cluster/version-table.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFile(path.join(root, file), 'utf8');

// Built from pieces so this file does not match itself.
const STALE = new RegExp(['DESIGN' + '\\.md', 'seeds' + '/\\d{3}', '\\bissue' + ' \\d+\\b'].join('|'));

test('code, manifests and scripts cite no file the repository lacks (planning notes, incident files, issue numbers)', async (t) => {
  const hits: string[] = [];
  for (const dir of ['harness', 'scenarios', 'manifests', 'scripts']) {
    for (const entry of await readdir(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !/\.(ts|ya?ml|md|json)$/.test(entry.name)) continue;
      const file = path.join(entry.parentPath, entry.name);
      (await readFile(file, 'utf8')).split('\n').forEach((line, i) => {
        if (STALE.test(line)) hits.push(`${path.relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  t.deepEqual(hits, [], 'state the fact or cite the upstream source instead');
});

test("docs/scenarios.md's example shows the scenario's own seed, extras and probe", async (t) => {
  const doc = await read('docs/scenarios.md');
  const source = await read('scenarios/externalname-5701-collision.ts');
  const example = /```ts\n(export default scenario\('externalname-5701-collision'[\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const calls = example.split('\n').map((l) => l.replace(/\s+\/\/.*$/, '').trim()).filter((l) => /^\.(seed|apply|probe|appliesTo|mesh)\(/.test(l));
  t.true(calls.length >= 3, 'the example lost its calls');
  for (const call of calls) t.true(source.includes(call), `the scenario does not contain: ${call}`);
});

test('docs/cluster.md describes how images are really loaded (single-platform archives), and every Istio minor with its newest patch', async (t) => {
  const doc = await read('docs/cluster.md');
  for (const line of doc.split('\n').filter((l) => l.includes('kind load docker-image'))) t.regex(line, /Why not/, line);
  t.regex(doc, /kind load image-archive/);
  t.is(replaceDocsTable(doc, VERSION_TABLE), doc, "docs/cluster.md's version table differs from versions.json: npm run refresh-versions regenerates it");
  for (const minor of ISTIO_MINORS) t.true(doc.includes(`| ${minor.minor} | ${minor.patches.at(-1)} – ${resolveIstio(minor.minor).version}`), minor.minor);
});
