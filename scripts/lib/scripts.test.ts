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
