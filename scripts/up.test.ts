import test from 'ava';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { tempDir } from '../harness/testing/temp-dir.ts';

// The zx scripts run as real child processes; they share the cluster library with `podpath up/down`.

test('scripts/up.ts: an unknown Istio version exits 2 with the known list, like podpath up', async (t) => {
  const result = await execa('npx', ['node', 'scripts/up.ts', '--istio', '1.19', '--dry-run'], { reject: false, env: { NO_COLOR: '1' } });
  t.is(result.exitCode, 2);
  t.regex(result.stderr, /scripts\/up: podpath does not know Istio 1\.19\nKnown Istio versions: 1\.30/);
});

test('scripts/down.ts --dry-run prints the plan for each cluster and touches nothing', async (t) => {
  const cache = await tempDir('podpath-scripts-');
  const result = await execa('npx', ['node', 'scripts/down.ts', '--dry-run', '--name', 'a', '--name', 'b'], { reject: false, env: { XDG_CACHE_HOME: cache } });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /\[exec\] \S+\/kind delete cluster --name a --kubeconfig \S+\/clusters\/a\/kubeconfig\b/);
  t.regex(result.stdout, /\[exec\] \S+\/kind delete cluster --name b --kubeconfig \S+\/clusters\/b\/kubeconfig\b/);
  t.deepEqual(await readdir(cache), []);
});

test('scripts/up.ts --dry-run --reuse plans the readiness check only', async (t) => {
  const cache = await tempDir('podpath-scripts-');
  const result = await execa('npx', ['node', 'scripts/up.ts', '--dry-run', '--reuse', '--istio', '1.30'], { reject: false, env: { XDG_CACHE_HOME: cache } });
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stdout, /\[exec\] \S+\/kind export kubeconfig --name podpath --kubeconfig \S+\/clusters\/podpath\/kubeconfig\n.*GET \/api\/v1\/namespaces\/kube-system\/configmaps\/podpath-cluster/s);
  t.regex(result.stdout, /deployments\/istiod/);
  t.notRegex(result.stdout, /istioctl install|kind create|server-side apply/);
  t.deepEqual(await readdir(cache), []);
});
