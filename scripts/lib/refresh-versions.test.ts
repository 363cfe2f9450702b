import test from 'ava';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { captureIo } from '../../harness/testing/capture-io.ts';
import { EnvironmentError, UsageError } from '../../harness/errors/index.ts';
import { parseVersionTable, type VersionTable } from '../../harness/cluster/version-table.ts';
import { parseRefreshArgs, runRefresh } from './refresh-versions.ts';

const SHIPPED = new URL('../../harness/cluster/versions.json', import.meta.url);
const DOCS = new URL('../../docs/cluster.md', import.meta.url);
const TODAY = new Date('2026-12-01T08:00:00Z');
const sum = (seed: string) => seed.repeat(64).slice(0, 64);
const digest = (seed: string) => seed.repeat(64).slice(0, 64);

interface Fixture {
  base: string;
  requests: { url: string; authorization: string | undefined }[];
  routes: Map<string, { status?: number; body: string }>;
}

function release(tag: string, extra: Partial<{ draft: boolean; prerelease: boolean; body: string; sums: string[] }> = {}, base = '') {
  return {
    tag_name: tag,
    draft: extra.draft ?? false,
    prerelease: extra.prerelease ?? false,
    body: extra.body ?? '',
    assets: (extra.sums ?? []).map((platform) => ({ name: `istioctl-${tag}-${platform}.tar.gz.sha256`, browser_download_url: `${base}/dl/${tag}/istioctl-${tag}-${platform}.tar.gz.sha256` })),
  };
}

const SUPPORT_STATUS = `# istio.io data/compatibility/supportStatus.yml shape
- version: "master"
  supported: "No, development only"
  k8sVersions: ["1.34", "1.35", "1.36", "1.37"]
- version: "1.31"
  supported: "Yes"
  k8sVersions: ["1.33", "1.34", "1.35", "1.36", "1.37"]
- version: "1.30"
  supported: "Yes"
  k8sVersions: ["1.32", "1.33", "1.34", "1.35", "1.36"]
- version: "1.28"
  supported: "No"
  eolDate: "Jun 26, 2026"
  k8sVersions: ["1.30", "1.31", "1.32", "1.33", "1.34"]
`;

async function serve(t: { teardown(fn: () => unknown): void }): Promise<Fixture> {
  const fixture: Fixture = { base: '', requests: [], routes: new Map() };
  const server: Server = createServer((req: IncomingMessage, res) => {
    fixture.requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
    const route = fixture.routes.get(req.url ?? '');
    res.writeHead(route?.status ?? (route ? 200 : 404), { 'content-type': 'text/plain' });
    res.end(route?.body ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  fixture.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const b = fixture.base;
  const istio = [
    release('1.31.0', { sums: ['linux-amd64', 'linux-arm64', 'osx', 'osx-arm64'] }, b),
    release('1.31.0-rc.0', { prerelease: true }, b),
    release('1.30.7', { draft: true, sums: ['linux-amd64'] }, b),
    release('1.30.6', { sums: ['linux-amd64', 'osx-arm64'] }, b),
    release('1.30.5', { sums: ['linux-amd64'] }, b),
    release('1.32.0', { sums: ['linux-amd64'] }, b),
    release('1.28.11', {}, b),
  ];
  const kind = [
    release('v0.34.0-alpha', { prerelease: true, body: `kindest/node:v1.38.0@sha256:${digest('9')}` }),
    release('v0.33.0', { body: `Images pre-built for this release:\n- v1.37.0: \`kindest/node:v1.37.0@sha256:${digest('7')}\`\n- v1.36.2: \`kindest/node:v1.36.2@sha256:${digest('6')}\`\n` }),
    release('v0.32.0', { body: `- v1.36.1: \`kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5\`\n- v1.35.5: \`kindest/node:v1.35.5@sha256:ce977ae6d65918d0b58a5f8b5e940429c2ce42fa3a5619ec2bbc60b949c0ac95\`` }),
  ];
  fixture.routes.set('/api/repos/istio/istio/releases?per_page=100&page=1', { body: JSON.stringify(istio) });
  fixture.routes.set('/api/repos/kubernetes-sigs/kind/releases?per_page=100', { body: JSON.stringify(kind) });
  fixture.routes.set('/raw/istio/istio.io/master/data/compatibility/supportStatus.yml', { body: SUPPORT_STATUS });
  for (const r of istio) {
    for (const a of r.assets) {
      const file = a.name.replace(/\.sha256$/, '');
      fixture.routes.set(new URL(a.browser_download_url).pathname, { body: `${sum(String(r.tag_name.length + a.name.length % 7))}  ${file}\n` });
    }
  }
  return fixture;
}

async function tableCopy(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'podpath-refresh-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'versions.json');
  await copyFile(SHIPPED, file);
  await copyFile(DOCS, path.join(dir, 'cluster.md'));
  return { dir, file };
}

async function refresh(fixture: Fixture, file: string, dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const io = captureIo({ cwd: dir, env });
  const options = parseRefreshArgs(['--file', file, '--docs', path.join(dir, 'cluster.md'), '--github-api', `${fixture.base}/api`, '--github-raw', `${fixture.base}/raw`, ...extra], env, dir);
  const code = await runRefresh(options, { fetch: (url, init) => fetch(url, init), now: () => TODAY }, io.io);
  return { code, io };
}

const readTable = async (file: string): Promise<VersionTable> => parseVersionTable(JSON.parse(await readFile(file, 'utf8')));

test('refresh adds new patches, minors, published istioctl sums and newer node images, and keeps every old fact', async (t) => {
  const fixture = await serve(t);
  const { dir, file } = await tableCopy(t);
  const before = await readTable(file);
  const { code, io } = await refresh(fixture, file, dir, [], { GITHUB_TOKEN: 'tok' });
  t.is(code, 0, io.stderr);
  const after = await readTable(file);

  t.deepEqual(after.istio.map((m) => m.minor).slice(0, 3), ['1.31', '1.30', '1.29']);
  const m131 = after.istio[0];
  t.deepEqual(m131.patches, ['1.31.0'], 'prereleases are not patches');
  t.deepEqual(m131.kubernetes, ['1.33', '1.34', '1.35', '1.36', '1.37']);
  t.false(m131.patchesComplete);
  t.is(Object.keys(m131.istioctlSha256['1.31.0']).length, 4);
  t.deepEqual(after.istio[1].patches.slice(0, 2), ['1.30.6', '1.30.5'], 'a draft release is not a patch');
  t.deepEqual(Object.keys(after.istio[1].istioctlSha256['1.30.6']).sort(), ['linux-amd64', 'osx-arm64'], 'only platforms the release publishes');
  t.regex(after.istio[1].istioctlSha256['1.30.6']['linux-amd64'] ?? '', /^[0-9a-f]{64}$/);
  t.truthy(after.istio[1].istioctlSha256['1.30.5']?.['linux-amd64'], 'an existing patch without a sum gets one');

  const m128 = after.istio.find((m) => m.minor === '1.28')!;
  t.is(m128.patches[0], '1.28.11');
  t.true(m128.patchesComplete, 'istio.io says 1.28 is out of support');
  t.false(after.istio.some((m) => m.minor === '1.32'), 'a minor without a Kubernetes range is not added');
  t.regex(io.stderr, /Istio 1\.32 has releases \(1\.32\.0\) but .* no Kubernetes range/);

  t.is(after.kind.default, 'v0.33.0', 'the newest stable kind, never an alpha');
  t.is(after.nodeImages['1.37'].image, `kindest/node:v1.37.0@sha256:${digest('7')}`);
  t.is(after.nodeImages['1.37'].kind, 'v0.33.0');
  t.is(after.nodeImages['1.36'].kubernetes, '1.36.2', 'the newest kind release that lists a minor wins it');
  t.false('1.38' in after.nodeImages);
  for (const minor of ['1.35', '1.34', '1.33', '1.32', '1.31', '1.30', '1.29']) t.deepEqual(after.nodeImages[minor], before.nodeImages[minor], minor);
  for (const old of before.istio) {
    const now = after.istio.find((m) => m.minor === old.minor)!;
    for (const p of old.patches) t.true(now.patches.includes(p), `${p} kept`);
    t.deepEqual(now.kubernetes, old.kubernetes, `${old.minor} range kept (the fixture repeats it)`);
    t.deepEqual(now.istioctlSha256, { ...now.istioctlSha256, ...old.istioctlSha256 });
  }
  t.is(after.updated, '2026-12-01');
  const doc = await readFile(path.join(dir, 'cluster.md'), 'utf8');
  t.regex(doc, /^\| 1\.31 \| 1\.31\.0 – 1\.31\.0 \(\*\) \| 1\.33 – 1\.37 \| v1\.37\.0 \| v0\.33\.0 \|$/m, 'the docs table is regenerated');
  t.regex(doc, /^\| 1\.28 \| 1\.28\.0 – 1\.28\.11 \| /m);
  t.is(doc.replace(/<!-- versions-table[\s\S]*<!-- \/versions-table -->/, ''), (await readFile(DOCS, 'utf8')).replace(/<!-- versions-table[\s\S]*<!-- \/versions-table -->/, ''), 'and nothing else in it');
  t.regex(io.stdout, /Istio 1\.31: new minor/);
  t.regex(io.stdout, /Istio 1\.30: new patches 1\.30\.6/);

  const api = fixture.requests.filter((r) => r.url.startsWith('/api/'));
  const others = fixture.requests.filter((r) => !r.url.startsWith('/api/'));
  t.true(api.every((r) => r.authorization === 'Bearer tok'), 'the token goes to the API');
  t.true(others.every((r) => r.authorization === undefined), 'and nowhere else');
});

test('a second refresh changes nothing and fetches no checksum it already has', async (t) => {
  const fixture = await serve(t);
  const { dir, file } = await tableCopy(t);
  await refresh(fixture, file, dir);
  const first = await readFile(file, 'utf8');
  fixture.requests.length = 0;
  const { code, io } = await refresh(fixture, file, dir);
  t.is(code, 0);
  t.is(await readFile(file, 'utf8'), first);
  t.regex(io.stdout, /no new releases/);
  t.deepEqual(fixture.requests.filter((r) => r.url.startsWith('/dl/')), []);
});

test('a recorded checksum is never replaced by a different published one', async (t) => {
  const fixture = await serve(t);
  const { dir, file } = await tableCopy(t);
  await refresh(fixture, file, dir);
  const recorded = (await readTable(file)).istio[1].istioctlSha256['1.30.6']['linux-amd64'];
  fixture.routes.set('/dl/1.30.6/istioctl-1.30.6-linux-amd64.tar.gz.sha256', { body: `${sum('f')}  istioctl-1.30.6-linux-amd64.tar.gz\n` });
  await refresh(fixture, file, dir);
  t.is((await readTable(file)).istio[1].istioctlSha256['1.30.6']['linux-amd64'], recorded);
});

test('--dry-run prints the changes and writes nothing', async (t) => {
  const fixture = await serve(t);
  const { dir, file } = await tableCopy(t);
  const before = await readFile(file, 'utf8');
  const { code, io } = await refresh(fixture, file, dir, ['--dry-run']);
  t.is(code, 0);
  t.regex(io.stdout, /Istio 1\.31: new minor/);
  t.regex(io.stdout, /dry run/);
  t.is(await readFile(file, 'utf8'), before);
  t.is(await readFile(path.join(dir, 'cluster.md'), 'utf8'), await readFile(DOCS, 'utf8'));
});

test('upstream errors stop the refresh with a hint and leave the table untouched', async (t) => {
  const fixture = await serve(t);
  const { dir, file } = await tableCopy(t);
  const before = await readFile(file, 'utf8');
  fixture.routes.set('/api/repos/kubernetes-sigs/kind/releases?per_page=100', { status: 403, body: '{"message":"API rate limit exceeded"}' });
  const limited = await t.throwsAsync(refresh(fixture, file, dir), { instanceOf: EnvironmentError });
  t.regex(limited.hint ?? '', /GITHUB_TOKEN/);
  fixture.routes.delete('/api/repos/kubernetes-sigs/kind/releases?per_page=100');
  await t.throwsAsync(refresh(fixture, file, dir), { instanceOf: EnvironmentError, message: /404/ });
  t.is(await readFile(file, 'utf8'), before);
});

test('a checksum file that names another archive is refused, nothing written', async (t) => {
  const fixture = await serve(t);
  const { dir, file } = await tableCopy(t);
  const before = await readFile(file, 'utf8');
  fixture.routes.set('/dl/1.31.0/istioctl-1.31.0-osx.tar.gz.sha256', { body: `${sum('e')}  istioctl-1.31.0-linux-amd64.tar.gz\n` });
  await t.throwsAsync(refresh(fixture, file, dir), { instanceOf: EnvironmentError, message: /no sha256 for istioctl-1\.31\.0-osx\.tar\.gz/ });
  t.is(await readFile(file, 'utf8'), before);
});

test('flags: base URLs from flags or env, only http(s); pages bounded', (t) => {
  const o = parseRefreshArgs([], { PODPATH_GITHUB_API: 'http://127.0.0.1:9/api/', PODPATH_GITHUB_RAW: 'http://127.0.0.1:9/raw' }, '/w');
  t.is(o.githubApi, 'http://127.0.0.1:9/api');
  t.is(o.githubRaw, 'http://127.0.0.1:9/raw');
  t.is(o.file, '/w/harness/cluster/versions.json');
  t.is(o.docs, '/w/docs/cluster.md');
  t.is(parseRefreshArgs([], {}, '/w').githubApi, 'https://api.github.com');
  t.throws(() => parseRefreshArgs(['--github-api', 'file:///etc'], {}, '/w'), { instanceOf: UsageError });
  t.throws(() => parseRefreshArgs(['--pages', '0'], {}, '/w'), { instanceOf: UsageError });
  t.throws(() => parseRefreshArgs(['--bogus'], {}, '/w'), { instanceOf: UsageError });
});
