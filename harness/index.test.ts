import test from 'ava';
import * as podpath from './index.ts';

// `export *` silently drops a name two concerns both export; this pins the ones users script against.
const publicFunctions = [
  'startAgent', 'runProbe', 'validateProbeRequest',
  'parseLogText', 'decodeCluster', 'correlate', 'diagnose',
  'loadConfigDump', 'explain', 'hasListener', 'hasCluster',
  'lint',
  'resolveIstio', 'up', 'down', 'upgradeIstio',
  'baselineDocuments', 'extraDocuments', 'KubeClient',
  'runSuite', 'evaluate',
  'writeRunResults', 'renderJunit', 'renderSummaryMarkdown', 'diffReports', 'newRunId',
  'PodpathError', 'UsageError', 'Plan',
] as const;

for (const name of publicFunctions) {
  test(`the package exports ${name}`, (t) => {
    t.is(typeof (podpath as Record<string, unknown>)[name], 'function');
  });
}
