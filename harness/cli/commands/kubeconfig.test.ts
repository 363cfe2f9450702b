import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';

async function cache(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-kubeconfig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('podpath kubeconfig prints the cluster\'s own kubeconfig path, for export KUBECONFIG=$(...)', async (t) => {
  const dir = await cache(t);
  const own = join(dir, 'podpath', 'clusters', 'podpath', 'kubeconfig');
  await mkdir(join(dir, 'podpath', 'clusters', 'podpath'), { recursive: true });
  await writeFile(own, 'apiVersion: v1\nkind: Config\n');
  const cap = captureIo({ env: { NO_COLOR: '1', XDG_CACHE_HOME: dir } });
  t.is(await main(['kubeconfig'], cap.io), 0, cap.stderr);
  t.is(cap.stdout, `${own}\n`, 'the path alone, so $(podpath kubeconfig) is the path');
  const json = captureIo({ env: { NO_COLOR: '1', XDG_CACHE_HOME: dir } });
  t.is(await main(['kubeconfig', 'podpath', '--json'], json.io), 0);
  t.deepEqual(JSON.parse(json.stdout), { name: 'podpath', context: 'kind-podpath', kubeconfig: own });
});

test('podpath kubeconfig NAME for a cluster podpath does not have: exit 2, says how to create it', async (t) => {
  const dir = await cache(t);
  const cap = captureIo({ env: { NO_COLOR: '1', XDG_CACHE_HOME: dir } });
  t.is(await main(['kubeconfig', 'nightly'], cap.io), 2);
  t.is(cap.stdout, '', 'nothing an export could pick up');
  t.regex(cap.stderr, /no podpath cluster 'nightly': there is no kubeconfig at \S+\/podpath\/clusters\/nightly\/kubeconfig/);
  t.regex(cap.stderr, /podpath up --name nightly/);
  for (const argv of [['kubeconfig', '../x'], ['kubeconfig', 'a', 'b']]) {
    const bad = captureIo({ env: { NO_COLOR: '1', XDG_CACHE_HOME: dir } });
    t.is(await main(argv, bad.io), 2, argv.join(' '));
  }
});

test('podpath kubeconfig --help says what the file is and the exit codes', async (t) => {
  const cap = captureIo();
  t.is(await main(['kubeconfig', '--help'], cap.io), 0);
  t.regex(cap.stdout, /export KUBECONFIG=\$\(podpath kubeconfig\)/);
  t.regex(cap.stdout, /2 no such podpath cluster/);
});
