import test from 'ava';
import { readFile } from 'node:fs/promises';
import * as podpath from './index.ts';

const kindOf = (value: unknown): string =>
  typeof value === 'function' ? (/^class\b/.test(Function.prototype.toString.call(value)) ? 'class' : 'function') : Array.isArray(value) ? 'array' : typeof value;

// What scripts build on, by kind: a class turned factory (or the reverse) breaks `new` at the call site.
const ENTRY_POINTS: Record<string, string> = {
  validateProbeRequest: 'function', classifyFailure: 'function', checkProbeAnswer: 'function',
  parseLogText: 'function', decodeCluster: 'function', correlate: 'function', diagnose: 'function',
  loadConfigDump: 'function', explain: 'function', hasListener: 'function', hasCluster: 'function',
  lint: 'function',
  resolveIstio: 'function', up: 'function', down: 'function', upgradeIstio: 'function',
  baselineDocuments: 'function', extraDocuments: 'function', KubeClient: 'class',
  runSuite: 'function', evaluate: 'function',
  writeRunResults: 'function', renderJunit: 'function', renderSummaryMarkdown: 'function', diffReports: 'function', newRunId: 'function',
  PodpathError: 'class', UsageError: 'class', Plan: 'class',
};

test('public API shape: every concern\'s exports reach the package unchanged, and the entry points have their kind', async (t) => {
  const pkg = podpath as Record<string, unknown>;
  // `export *` silently drops a name two concerns both export: every concern's surface must arrive whole.
  const source = await readFile(new URL('./index.ts', import.meta.url), 'utf8');
  const concerns = [...source.matchAll(/^export \* from '(\.\/[a-z-]+\/index\.ts)';$/gm)].map((m) => m[1]);
  t.true(concerns.length >= 10, `found the concerns: ${concerns.join(', ')}`);
  for (const concern of concerns) {
    const surface = (await import(new URL(concern, import.meta.url).href)) as Record<string, unknown>;
    t.deepEqual(Object.keys(surface).filter((name) => pkg[name] !== surface[name]), [], `${concern}: names missing from the package or taken from another concern`);
  }
  t.deepEqual(Object.fromEntries(Object.keys(ENTRY_POINTS).map((name) => [name, kindOf(pkg[name])])), ENTRY_POINTS);
});

test('the agent is its own entry point (podpath/agent), not part of the host library', async (t) => {
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { exports: Record<string, string> };
  t.is(pkg.exports['./agent'], './harness/workload/agent.ts');
  // The host library carries the probe contract; the agent's I/O (servers, sockets) stays in the file that ships into pods.
  for (const name of ['startAgent', 'runProbe', 'parseAgentArgs']) t.false(name in podpath, name);
  const agent = (await import('podpath/agent')) as Record<string, unknown>;
  t.deepEqual([kindOf(agent.startAgent), kindOf(agent.runProbe)], ['function', 'function']);
});
