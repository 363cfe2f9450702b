import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseVersionTable, pinnedIstioctlSha256, serializeVersionTable, sortVersionsDesc, VersionTableError, type VersionTable } from './version-table.ts';

const shipped = readFileSync(new URL('./versions.json', import.meta.url), 'utf8');
const SUM = 'a'.repeat(64);

function table(): VersionTable {
  return {
    schemaVersion: 1,
    about: 'test',
    updated: '2026-12-01',
    kind: { default: 'v0.32.0' },
    nodeImages: { '1.36': { kubernetes: '1.36.1', kind: 'v0.32.0', verified: true, source: 'kind v0.32.0 notes', image: `kindest/node:v1.36.1@sha256:${'b'.repeat(64)}` } },
    istio: [
      { minor: '1.30', patches: ['1.30.10', '1.30.9'], patchesComplete: false, patchesAsOf: '2026-12', kubernetes: ['1.35', '1.36'], verified: true, source: 's', istioctlSha256: { '1.30.10': { 'linux-amd64': SUM } } },
      { minor: '1.29', patches: ['1.29.0'], patchesComplete: true, patchesAsOf: '2026-12', kubernetes: ['1.35'], verified: true, source: 's', istioctlSha256: {} },
    ],
  };
}

function broken(edit: (t: VersionTable & Record<string, unknown>) => void): unknown {
  const t = structuredClone(table()) as VersionTable & Record<string, unknown>;
  edit(t);
  return t;
}

test('the shipped versions.json parses and is written in the canonical form', (t) => {
  const parsed = parseVersionTable(JSON.parse(shipped));
  t.is(parsed.istio[0].minor, '1.30');
  t.is(serializeVersionTable(parsed), shipped, 'run the refresh script or keep the file in serializeVersionTable form');
});

test('serialize keeps lists of versions on one line and round-trips', (t) => {
  const text = serializeVersionTable(table());
  t.regex(text, /"patches": \["1\.30\.10", "1\.30\.9"\],\n/);
  t.deepEqual(parseVersionTable(JSON.parse(text)), table());
});

test('versions sort numerically, newest first', (t) => {
  t.deepEqual(sortVersionsDesc(['1.30.9', '1.30.10', '1.4.0', '1.30.0']), ['1.30.10', '1.30.9', '1.30.0', '1.4.0']);
});

test('a broken table is an error naming the field, never a half-read table', (t) => {
  const cases: [string, (t: VersionTable & Record<string, unknown>) => void, RegExp][] = [
    ['schema', (x) => { (x as Record<string, unknown>).schemaVersion = 2; }, /schemaVersion/],
    ['patch of another minor', (x) => { x.istio[0].patches = ['1.30.1', '1.29.9']; }, /1\.29\.9, not a 1\.30 patch/],
    ['patches out of order', (x) => { x.istio[0].patches = ['1.30.9', '1.30.10']; }, /newest first/],
    ['minors out of order', (x) => { x.istio.reverse(); }, /newest minor first/],
    ['sum for an unknown patch', (x) => { x.istio[0].istioctlSha256['1.30.11'] = { 'linux-amd64': SUM }; }, /1\.30\.11, which is not a known patch/],
    ['bad sum', (x) => { x.istio[0].istioctlSha256['1.30.10'] = { 'linux-amd64': 'abc' }; }, /linux-amd64/],
    ['unknown platform', (x) => { x.istio[0].istioctlSha256['1.30.10'] = { 'windows-amd64': SUM } as never; }, /unknown platform 'windows-amd64'/],
    ['node image without digest', (x) => { x.nodeImages['1.36'].image = 'kindest/node:v1.36.1'; }, /nodeImages\["1\.36"\]\.image/],
    ['node image of another version', (x) => { x.nodeImages['1.36'].image = `kindest/node:v1.36.2@sha256:${SUM}`; }, /another Kubernetes version/],
    ['kind tag', (x) => { x.nodeImages['1.36'].kind = '0.32'; }, /kind/],
    ['no source', (x) => { x.istio[1].source = ''; }, /istio "1\.29"\.source/],
  ];
  for (const [name, edit, message] of cases) {
    const error = t.throws(() => parseVersionTable(broken(edit)), { instanceOf: VersionTableError }, name);
    t.regex(error.shortMessage, message, name);
    t.regex(error.hint ?? '', /refresh-versions/);
  }
});

test('pinned istioctl sums are found by version and platform, and only there', (t) => {
  t.is(pinnedIstioctlSha256(table(), '1.30.10', 'linux-amd64'), SUM);
  t.is(pinnedIstioctlSha256(table(), '1.30.10', 'osx'), undefined);
  t.is(pinnedIstioctlSha256(table(), '1.30.9', 'linux-amd64'), undefined);
  t.is(pinnedIstioctlSha256(table(), '1.31.0', 'linux-amd64'), undefined);
});
