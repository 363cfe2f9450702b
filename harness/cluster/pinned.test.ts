import test from 'ava';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../errors/index.ts';
import { istioctlAsset } from './assets.ts';
import type { FetchLike } from './download.ts';
import { istioctlPlatform, withPinnedChecksum } from './pinned.ts';
import { ensureIstioctl } from './tools.ts';
import { ScriptedExec } from './testing/doubles.ts';

const PUBLISHED = 'a'.repeat(64);
const asset = istioctlAsset('1.30.5', { os: 'linux', arch: 'amd64' }, { kind: 'http://127.0.0.1:9/kind', istio: 'http://127.0.0.1:9/istio' });

function fakeFetch(requests: string[]): FetchLike {
  return async (url) => {
    requests.push(url);
    if (url === asset.checksumUrl) return new Response(`${PUBLISHED}  ${asset.fileName}\n`);
    return new Response('archive bytes');
  };
}

test('platform suffixes match the archive names istioctlAsset builds', (t) => {
  for (const target of [{ os: 'linux', arch: 'amd64' }, { os: 'linux', arch: 'arm64' }, { os: 'darwin', arch: 'amd64' }, { os: 'darwin', arch: 'arm64' }] as const) {
    t.true(istioctlAsset('1.30.5', target).fileName.endsWith(`-${istioctlPlatform(target)}.tar.gz`));
  }
});

test('a published sum equal to the pinned one passes through unchanged; other URLs are untouched', async (t) => {
  const requests: string[] = [];
  const fetchFn = withPinnedChecksum(fakeFetch(requests), asset, PUBLISHED);
  t.is(await (await fetchFn(asset.checksumUrl)).text(), `${PUBLISHED}  ${asset.fileName}\n`);
  t.is(await (await fetchFn(asset.url)).text(), 'archive bytes');
});

test('a published sum that differs from the pinned one stops before any download', async (t) => {
  const requests: string[] = [];
  const cache = await mkdtemp(join(tmpdir(), 'podpath-pinned-'));
  t.teardown(() => rm(cache, { recursive: true, force: true }));
  const error = await t.throwsAsync(ensureIstioctl('1.30.5', {
    exec: new ScriptedExec().on('istioctl', 'missing'),
    env: { XDG_CACHE_HOME: cache },
    platform: 'linux',
    arch: 'x64',
    sources: { kind: 'http://127.0.0.1:9/kind', istio: 'http://127.0.0.1:9/istio' },
    fetch: fakeFetch(requests),
    ignorePath: true,
    pinnedIstioctl: (version, platform) => (version === '1.30.5' && platform === 'linux-amd64' ? 'b'.repeat(64) : undefined),
  }), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /differs from the one podpath recorded/);
  t.deepEqual(requests, [asset.checksumUrl], 'the archive was never fetched');
  t.deepEqual(await readdir(join(cache, 'podpath', 'tools', 'istioctl', '1.30.5', 'linux-amd64')).catch(() => []), []);
});
