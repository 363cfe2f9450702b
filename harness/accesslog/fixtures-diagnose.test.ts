// Every access log fixture in the repository, diagnosed: an `error` fails somebody's CI through
// --fail-on, so each one found here is listed with the reason a maintainer reading the line would
// agree with. A new fixture that raises an unlisted error fails this test until it is judged.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diagnose, parseLogText } from './index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const inventory = JSON.parse(readFileSync(new URL('./fixtures/inventory.json', import.meta.url), 'utf8')) as unknown;
// Generated, installed or produced by runs: not fixtures.
const SKIP_DIRS = new Set(['node_modules', '.git', 'results', '.data']);

function logFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (d.isDirectory()) return SKIP_DIRS.has(d.name) ? [] : logFiles(join(dir, d.name));
    return d.name.endsWith('.log') ? [relative(root, join(dir, d.name))] : [];
  });
}

const A = 'harness/accesslog/fixtures/';
const R = `${A}real/`;

/** file → error ids, each with why it is right. */
const EXPECTED_ERRORS: Record<string, string[]> = {
  // 503 UH with response_code_details "no healthy upstream" on a service cluster and no upstream host.
  [`${A}istio-1.6.log`]: ['no-healthy-upstream'],
  // BlackHoleCluster drops the connection; a server-side NR filter_chain_not_found rejects it before the app.
  [`${A}istio-1.9.log`]: ['blackhole', 'plaintext-to-strict-mtls'],
  // 503 UH, no_healthy_upstream, on outbound|8080||idle.idle.svc.cluster.local with no upstream host.
  [`${A}istio-json.log`]: ['no-healthy-upstream'],
  [`${A}server.log`]: ['plaintext-to-strict-mtls'],
  [`${R}blackhole-uh.json.log`]: ['blackhole'],
  // UF,URX on inbound|PORT||: the sidecar could not connect to its own app.
  [`${R}inbound-loopback-uf.log`]: ['app-not-listening'],
  [`${R}inbound-pod-ip-refused.log`]: ['app-not-listening'],
  // NR filter_chain_not_found on the server side: the connection was refused by the sidecar.
  [`${R}k9s-nr-passthrough.log`]: ['plaintext-to-strict-mtls'],
  [`${R}strict-mtls-nr.log`]: ['plaintext-to-strict-mtls'],
  [`${R}typographic-quotes.log`]: ['plaintext-to-strict-mtls'],
  // UH, no cluster, a public destination: what BlackHoleCluster logged before Envoy printed its name (REGISTRY_ONLY).
  [`${R}registry-only-uh-kubetail.log`]: ['blackhole'],
};

/** With the inventory the synthetic fixtures were written against, the seed incident is confirmed. */
const SEED = 'pod-ip-captured-by-service-listener';
const EXPECTED_WITH_INVENTORY: Record<string, string[]> = {
  ...EXPECTED_ERRORS,
  // UF,URX to pod 10.244.1.8:5701 through outbound|5701||app-ext (an ExternalName Service): the seed incident.
  [`${A}client.log`]: [SEED],
  [`${A}istio-1.8.log`]: [SEED],
  [`${A}istio-1.23.log`]: [SEED],
  [`${A}istio-json.log`]: [SEED, 'no-healthy-upstream'],
};

function errorsByFile(files: string[], options: { inventory?: unknown }): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const file of files) {
    const { entries } = parseLogText(readFileSync(join(root, file), 'utf8'), { source: file });
    const errors = diagnose(entries, options).filter((d) => d.severity === 'error');
    for (const d of errors) {
      // An error with no line to show for it is a verdict nobody can check.
      if (d.evidence.length === 0) throw new Error(`${file}: ${d.id} has no evidence`);
    }
    if (errors.length > 0) out[file] = errors.map((d) => d.id).sort();
  }
  return out;
}

const sorted = (m: Record<string, string[]>): Record<string, string[]> => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v].sort()]));

test('the walk finds every log fixture, the real ones included', (t) => {
  const files = logFiles(root);
  t.true(files.length >= 20, files.join(', '));
  for (const file of Object.keys(EXPECTED_WITH_INVENTORY)) t.true(files.includes(file), file);
});

test('logs --diagnose raises on every fixture only the errors listed, each for a reason', (t) => {
  t.deepEqual(errorsByFile(logFiles(root), {}), sorted(EXPECTED_ERRORS));
});

test('with the fixtures\' inventory, the seed incident becomes an error and nothing else does', (t) => {
  t.deepEqual(errorsByFile(logFiles(root), { inventory }), sorted(EXPECTED_WITH_INVENTORY));
});
