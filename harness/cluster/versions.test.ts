import test from 'ava';
import { ISTIO_MINORS, KIND_VERSIONS, NODE_IMAGES, newestIstio, preloadImages, resolveIstio } from './versions.ts';
import { AGENT_IMAGE } from '../../manifests/topology.ts';
import { UsageError } from '../errors/index.ts';

// Expected values below come from istio.io's supported-releases table (istio/istio.io
// data/compatibility/supportStatus.yml), istio/istio's release tags and kind's release notes, not from the code.

test('every Istio minor from 1.20 through 1.30 is in the table', (t) => {
  const minors = ISTIO_MINORS.map((m) => m.minor);
  for (let n = 20; n <= 30; n++) t.true(minors.includes(`1.${n}`), `1.${n}`);
});

test('supported Kubernetes ranges match istio.io for 1.20-1.30', (t) => {
  t.deepEqual(resolveIstio('1.30').kubernetes, ['1.32', '1.33', '1.34', '1.35', '1.36']);
  t.deepEqual(resolveIstio('1.29').kubernetes, ['1.31', '1.32', '1.33', '1.34', '1.35']);
  t.deepEqual(resolveIstio('1.28').kubernetes, ['1.30', '1.31', '1.32', '1.33', '1.34']);
  t.deepEqual(resolveIstio('1.22').kubernetes, ['1.27', '1.28', '1.29', '1.30']);
  t.deepEqual(resolveIstio('1.20').kubernetes, ['1.25', '1.26', '1.27', '1.28', '1.29']);
});

test("'1.30' resolves to the latest known patch and kind v0.32's default node image (Kubernetes 1.36)", (t) => {
  const release = resolveIstio('1.30');
  t.is(release.version, '1.30.5');
  t.is(release.minor, '1.30');
  t.is(release.kind, 'v0.32.0');
  t.regex(release.kindNodeImage, /^kindest\/node:v1\.36\.\d+@sha256:[0-9a-f]{64}$/);
});

test('a minor whose patch list may be behind says so; a finished one does not', (t) => {
  t.true(resolveIstio('1.28').warnings.some((w) => /newer patch may exist/.test(w)));
  t.deepEqual(resolveIstio('1.29').warnings, []);
  t.is(resolveIstio('1.29').version, '1.29.9');
});

test('exact known patches are accepted as given', (t) => {
  t.is(resolveIstio('1.22.3').version, '1.22.3');
  t.is(resolveIstio('v1.24.0').version, '1.24.0');
  t.deepEqual(resolveIstio('1.22.3').warnings, [], 'an exact version is not "resolved", so no patch warning');
});

test('unknown versions are UsageErrors that list what is known', (t) => {
  const unknownMinor = t.throws(() => resolveIstio('1.19'), { instanceOf: UsageError });
  t.regex(unknownMinor.hint ?? '', /1\.20 \(1\.20\.8\.\.1\.20\.0\)/);
  t.notRegex(unknownMinor.hint ?? '', /refresh-versions/, 'refreshing cannot bring back an end-of-life minor');
  const unknownPatch = t.throws(() => resolveIstio('1.22.99'), { instanceOf: UsageError });
  t.regex(unknownPatch.shortMessage, /1\.22\.99/);
  t.regex(unknownPatch.hint ?? '', /1\.22\.8, 1\.22\.7/);
  t.throws(() => resolveIstio('latest'), { instanceOf: UsageError });
});

test('--k8s picks that node image if Istio supports it, else a UsageError naming the range', (t) => {
  const release = resolveIstio('1.30', { k8s: '1.33' });
  t.regex(release.kindNodeImage, /^kindest\/node:v1\.33\./);
  const error = t.throws(() => resolveIstio('1.30', { k8s: '1.29' }), { instanceOf: UsageError });
  t.regex(error.hint ?? '', /1\.32, 1\.33, 1\.34, 1\.35, 1\.36/);
});

test('older Istio gets an older node image with the kind release that published it', (t) => {
  const release = resolveIstio('1.20');
  t.regex(release.kindNodeImage, /^kindest\/node:v1\.29\./);
  t.is(release.kind, 'v0.27.0');
});

test('every node image is pinned by digest and tagged with its Kubernetes version', (t) => {
  for (const [minor, node] of Object.entries(NODE_IMAGES)) {
    t.regex(node.image, new RegExp(`^kindest/node:v${node.kubernetes.replaceAll('.', '\\.')}@sha256:[0-9a-f]{64}$`));
    t.true(node.kubernetes.startsWith(`${minor}.`));
  }
});

test('every minor resolves to a node image within its supported range', (t) => {
  for (const minor of ISTIO_MINORS) {
    const release = resolveIstio(minor.minor);
    t.true(minor.kubernetes.includes(release.node.kubernetes.split('.').slice(0, 2).join('.')), minor.minor);
    t.is(release.version, minor.patches[0]);
  }
});

test('preload list names the workload image and the Istio images of that exact version', (t) => {
  t.deepEqual(preloadImages('1.22.8'), [AGENT_IMAGE, 'docker.io/istio/pilot:1.22.8', 'docker.io/istio/proxyv2:1.22.8']);
  t.regex(preloadImages('1.22.8')[0], /@sha256:[0-9a-f]{64}$/, 'the agent image is preloaded by the digest the manifests use');
});

test('an Istio minor newer than the table names the newest known release and how to refresh', (t) => {
  const error = t.throws(() => resolveIstio('1.31'), { instanceOf: UsageError });
  t.regex(error.shortMessage, /does not know Istio 1\.31/);
  t.regex(error.hint ?? '', /The newest is 1\.30\.5 \(table of \d{4}-\d{2}-\d{2}\)/);
  t.regex(error.hint ?? '', /npm run refresh-versions/);
  const nextMajor = t.throws(() => resolveIstio('2.0'), { instanceOf: UsageError });
  t.regex(nextMajor.hint ?? '', /npm run refresh-versions/);
  const unknownPatch = t.throws(() => resolveIstio('1.30.6'), { instanceOf: UsageError });
  t.regex(unknownPatch.hint ?? '', /the newest is 1\.30\.5\..*npm run refresh-versions/);
  t.is(newestIstio(), '1.30.5');
});

test('patches added from istio/istio tags: 1.28 means 1.28.10, 1.27 means 1.27.9', (t) => {
  t.is(resolveIstio('1.28').version, '1.28.10');
  t.is(resolveIstio('1.27').version, '1.27.9');
  t.is(resolveIstio('1.28.7').version, '1.28.7');
  t.regex(resolveIstio('1.28').warnings.join(), /npm run refresh-versions/);
});

test('kind releases in use are the default plus every release a node image comes from', (t) => {
  t.deepEqual(KIND_VERSIONS, ['v0.32.0', 'v0.27.0']);
});
