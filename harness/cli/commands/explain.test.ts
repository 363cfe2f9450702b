import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';
import { FQDN, healthySidecar, POD, seedBrokenSidecar } from '../../envoy/testing/istio.ts';

const podpath = fileURLToPath(new URL('../../../bin/podpath.ts', import.meta.url));
let dir = '';
let seed = '';
let healthy = '';

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podpath-explain-'));
  seed = join(dir, 'seed.json');
  healthy = join(dir, 'healthy.json.gz');
  await writeFile(seed, JSON.stringify(seedBrokenSidecar({ ownIpBlackhole: true }).build()));
  await writeFile(healthy, gzipSync(JSON.stringify(healthySidecar({ inbound: 'STRICT' }).build())));
});

test.after.always(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('human output: one step per line, the verdict, the seed explanation and fixes', async (t) => {
  const cap = captureIo();
  t.is(await main(['explain', '--config-dump', seed, '--dst', `${POD.managerB}:5701`], cap.io), 0);
  const lines = cap.stdout.split('\n');
  t.is(lines[0], `outbound ${POD.managerB}:5701`);
  t.regex(lines[1], /^ {4}listener 0\.0\.0\.0_5701 \(/);
  t.is(lines[2], '  → filter chain 1 (no destination match: catch-all)');
  t.is(lines[3], '  → tcp_proxy');
  t.is(lines[4], `  → cluster outbound|5701||${FQDN.appExt} (STRICT_DNS ${FQDN.idle}:5701)`);
  t.is(lines[5], `  → verdict: captured (${POD.managerB} is not an endpoint)`);
  t.regex(cap.stdout, /This is the seed incident/);
  t.regex(cap.stdout, /Fixes:\n {2}- Drop port 5701 from app-ext\.app\.svc\.cluster\.local/);
  t.regex(cap.stdout, /networking\.istio\.io\/exportTo: "\."/);
  t.is(cap.stderr, '');
});

test('--json has exactly the issue keys', async (t) => {
  const cap = captureIo();
  t.is(await main(['explain', '--config-dump', seed, '--dst', `${POD.managerB}:5701`, '--json'], cap.io), 0);
  const out = JSON.parse(cap.stdout) as Record<string, unknown>;
  t.deepEqual(Object.keys(out), ['dst', 'direction', 'listener', 'filterChain', 'route', 'cluster', 'verdict', 'steps', 'missing']);
  t.deepEqual(Object.keys(out.filterChain as object), ['index', 'name', 'match']);
  t.deepEqual(Object.keys(out.cluster as object), ['name', 'type', 'endpoints']);
  t.is(out.verdict, 'captured');
  t.is(out.route, null);
});

test('gzip input, --inbound and --transport: STRICT refuses plaintext, accepts tls; exit 0 for any verdict', async (t) => {
  const plain = captureIo();
  t.is(await main(['explain', '--config-dump', healthy, '--dst', `${POD.managerA}:5701`, '--inbound', '--json'], plain.io), 0);
  t.is((JSON.parse(plain.stdout) as { verdict: string }).verdict, 'rejected');
  const tls = captureIo();
  t.is(await main(['explain', '--config-dump', healthy, '--dst', `${POD.managerA}:5701`, '--inbound', '--transport', 'tls', '--json'], tls.io), 0);
  t.is((JSON.parse(tls.stdout) as { verdict: string }).verdict, 'service');
});

test('stdin with -: the listener array istioctl prints', async (t) => {
  const cap = captureIo({ stdin: JSON.stringify(healthySidecar().buildListenerArray()) });
  t.is(await main(['explain', '--config-dump', '-', '--dst', `${POD.app}:8080`, '--json'], cap.io), 0);
  const out = JSON.parse(cap.stdout) as { verdict: string; missing: string[] };
  // Route configs are not in a listener array: the HTTP path cannot be followed.
  t.is(out.verdict, 'unknown');
  t.true(out.missing.some((m) => m.includes('RoutesConfigDump')));
});

test('unusable input exits 2 with a specific one-line message and no stack', async (t) => {
  const notJson = join(dir, 'table.txt');
  await writeFile(notJson, 'ADDRESS PORT MATCH DESTINATION\n0.0.0.0 5701 ALL Cluster: outbound|5701||app-ext\n');
  const notDump = join(dir, 'pod.json');
  await writeFile(notDump, JSON.stringify({ apiVersion: 'v1', kind: 'Pod' }));
  const cases: Array<[string[], RegExp]> = [
    [['--config-dump', notJson, '--dst', '10.0.0.1:1'], /^podpath: .*table\.txt is not JSON/],
    [['--config-dump', notDump, '--dst', '10.0.0.1:1'], /^podpath: .*pod\.json: not an Envoy config dump/],
    [['--config-dump', seed, '--dst', 'manager:5701'], /^podpath: explain: --dst 'manager:5701' is not IP:PORT/],
    [['--config-dump', join(dir, 'missing.json'), '--dst', '10.0.0.1:1'], /^podpath: cannot read config dump .*missing\.json: no such file/],
    [['--dst', '10.0.0.1:1'], /^podpath: explain: --config-dump FILE is required/],
    [['--config-dump', seed], /^podpath: explain: --dst IP:PORT is required/],
    [['--config-dump', seed, '--dst', '10.0.0.1:1', '--transport', 'quic'], /--transport must be tls or raw_buffer, not 'quic'/],
    [['--config-dump', seed, '--dst', '10.0.0.1:1', '--src', 'pod-a'], /--src 'pod-a' is not an IP address/],
  ];
  for (const [args, message] of cases) {
    const cap = captureIo();
    t.is(await main(['explain', ...args], cap.io), 2, args.join(' '));
    t.regex(cap.stderr, message);
    t.notRegex(cap.stderr, /\n\s+at /);
    t.is(cap.stdout, '');
  }
});

test('as a real child process: reads the file, prints the verdict, exits 0', async (t) => {
  const result = await execa(process.execPath, [podpath, 'explain', '--config-dump', seed, '--dst', `${POD.managerA}:5701`], { reject: false, env: { NO_COLOR: '1' } });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /→ filter chain 0 \(destination 10\.244\.1\.5\/32\)/);
  t.regex(result.stdout, /→ verdict: blackhole/);
  const bad = await execa(process.execPath, [podpath, 'explain', '--config-dump', seed, '--dst', 'nope'], { reject: false });
  t.is(bad.exitCode, 2);
  t.regex(bad.stderr, /--dst 'nope' is not IP:PORT/);
});

test('--max-dump-size: a bigger gzip dump exits 2 naming the cap; a bad size is a usage error', async (t) => {
  const small = captureIo();
  t.is(await main(['explain', '--config-dump', healthy, '--dst', '10.0.0.1:80', '--max-dump-size', '3K'], small.io), 2);
  t.regex(small.stderr, /^podpath: .*healthy\.json\.gz is too large: it decompresses to more than the 3 KiB cap \(--max-dump-size\)/);
  t.notRegex(small.stderr, /internal error|not JSON/);
  const bad = captureIo();
  t.is(await main(['explain', '--config-dump', healthy, '--dst', '10.0.0.1:80', '--max-dump-size', 'lots'], bad.io), 2);
  t.regex(bad.stderr, /--max-dump-size: 'lots' is not a size/);
});
