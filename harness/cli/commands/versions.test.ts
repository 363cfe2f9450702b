import test from 'ava';
import { main } from '../main.ts';
import { captureIo } from '../../testing/capture-io.ts';
import { ISTIO_MINORS, resolveIstio } from '../../cluster/versions.ts';
import type { VersionsReport } from './versions.ts';

async function run(argv: string[]) {
  const cap = captureIo();
  const code = await main(['versions', ...argv], cap.io);
  return { code, stdout: cap.stdout, stderr: cap.stderr };
}

test('--json lists every supported minor with the patch --istio MINOR resolves to', async (t) => {
  const { code, stdout } = await run(['--json']);
  t.is(code, 0);
  const report = JSON.parse(stdout) as VersionsReport;
  t.deepEqual(report.versions.map((v) => v.minor), ISTIO_MINORS.map((m) => m.minor));
  t.true(report.versions.length >= 11);
  for (const v of report.versions) {
    t.is(v.newest, resolveIstio(v.minor).version, v.minor);
    t.is(v.nodeImage.image, resolveIstio(v.minor).kindNodeImage, v.minor);
  }
  t.is(report.newest, report.versions[0].newest);
  t.is(report.versions.find((v) => v.minor === '1.28')?.newest, '1.28.10');
  t.regex(report.updated, /^\d{4}-\d{2}-\d{2}$/);
});

test('--newest prints one line: the newest Istio version', async (t) => {
  const { code, stdout } = await run(['--newest']);
  t.is(code, 0);
  t.is(stdout, '1.30.5\n');
});

test('the human table has a row per minor, marks lists that may be behind, and says how to refresh', async (t) => {
  const { code, stdout } = await run([]);
  t.is(code, 0);
  for (const m of ISTIO_MINORS) t.regex(stdout, new RegExp(`^${m.minor.replace('.', '\\.')}\\s+${m.patches[0].replaceAll('.', '\\.')}${m.patchesComplete ? ' ' : '\\*'}`, 'm'));
  t.regex(stdout, /npm run refresh-versions/);
});

test('--json with --newest is a usage error', async (t) => {
  const { code, stderr } = await run(['--json', '--newest']);
  t.is(code, 2);
  t.regex(stderr, /do not go together/);
});
