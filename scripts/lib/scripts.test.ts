import test from 'ava';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

test('the scripts run as child processes: --help exits 0, bad usage exits 2 without a stack', async (t) => {
  const help = await execa('npx', ['node', 'scripts/nightly.ts', '--help'], { cwd: repoRoot, reject: false });
  t.is(help.exitCode, 0, help.stderr);
  t.regex(help.stdout, /^Usage: npx zx scripts\/nightly\.ts/m);
  const bad = await execa('npx', ['zx', 'scripts/upgrade.ts', '--from', '1.29'], { cwd: repoRoot, reject: false });
  t.is(bad.exitCode, 2);
  t.regex(bad.stderr, /^upgrade: needs --from A and --to B$/m);
  t.false(bad.stderr.includes('    at '));
});

test('refresh-versions and nightly-summary run as child processes: --help exits 0, bad usage exits 2 without a stack', async (t) => {
  const [refreshHelp, refreshBad, summaryHelp, summaryBad] = await Promise.all([
    execa('npx', ['node', 'scripts/refresh-versions.ts', '--help'], { cwd: repoRoot, reject: false }),
    execa('npx', ['node', 'scripts/refresh-versions.ts', '--github-api', 'file:///etc'], { cwd: repoRoot, reject: false }),
    execa('npx', ['node', 'scripts/nightly-summary.ts', '--help'], { cwd: repoRoot, reject: false }),
    execa('npx', ['node', 'scripts/nightly-summary.ts'], { cwd: repoRoot, reject: false }),
  ]);
  t.is(refreshHelp.exitCode, 0, refreshHelp.stderr);
  t.regex(refreshHelp.stdout, /^Usage: npm run refresh-versions/m);
  t.is(refreshBad.exitCode, 2);
  t.regex(refreshBad.stderr, /^refresh-versions: --github-api: only http\(s\) URLs/m);
  t.is(summaryHelp.exitCode, 0, summaryHelp.stderr);
  t.regex(summaryHelp.stdout, /^Usage: npx node scripts\/nightly-summary\.ts/m);
  t.is(summaryBad.exitCode, 2);
  t.regex(summaryBad.stderr, /^nightly-summary: name at least one directory/m);
  for (const r of [refreshBad, summaryBad]) t.false(r.stderr.includes('    at '));
});
