import test from 'ava';
import { nodeImagesFromKindReleases, stableIstioPatches, type GitHubRelease } from './version-refresh.ts';

const r = (tag_name: string, body = '', extra: Partial<GitHubRelease> = {}): GitHubRelease => ({ tag_name, draft: false, prerelease: false, body, assets: [], ...extra });
const img = (k8s: string, seed: string) => `kindest/node:v${k8s}@sha256:${seed.repeat(64)}`;

test('kind releases are ordered by version, not by text or by the order GitHub lists them', (t) => {
  const { kind, images } = nodeImagesFromKindReleases([r('v0.9.0', `- ${img('1.19.1', 'a')}`), r('v0.10.0', `- ${img('1.19.7', 'b')}`), r('v0.11.0-alpha', `- ${img('1.19.9', 'c')}`)]);
  t.is(kind, 'v0.10.0');
  t.is(images.get('1.19')?.kubernetes, '1.19.7');
  t.is(images.get('1.19')?.kind, 'v0.10.0');
});

test('istio patches: only stable tags of published releases', (t) => {
  const patches = stableIstioPatches([r('1.30.1'), r('1.30.2-rc.0'), r('1.30.3', '', { draft: true }), r('1.30.4', '', { prerelease: true }), r('1.31.0'), r('v1.29.0')]);
  t.deepEqual(Object.fromEntries(patches), { '1.30': ['1.30.1'], '1.31': ['1.31.0'] });
});
