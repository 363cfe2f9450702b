import test from 'ava';
import { main, version } from './main.ts';
import { commandTable, loadAllCommands } from './commands/index.ts';
import { captureIo } from '../testing/capture-io.ts';

test('--help lists every command and exits 0', async (t) => {
  const cap = captureIo();
  t.is(await main(['--help'], cap.io), 0);
  for (const command of commandTable) t.regex(cap.stdout, new RegExp(`^  ${command.name}\\s+\\S`, 'm'));
});

test('no arguments prints the help', async (t) => {
  const cap = captureIo();
  t.is(await main([], cap.io), 0);
  t.regex(cap.stdout, /Usage: podpath <command>/);
});

test('--version prints the package version', async (t) => {
  const cap = captureIo();
  t.is(await main(['--version'], cap.io), 0);
  t.is(cap.stdout, `podpath ${version}\n`);
});

test('unknown command: one-line error and a hint on stderr, exit 2', async (t) => {
  const cap = captureIo();
  t.is(await main(['frobnicate'], cap.io), 2);
  t.is(cap.stdout, '');
  t.regex(cap.stderr, /^podpath: unknown command 'frobnicate'\nRun 'podpath --help'/);
});

test('unknown global flag exits 2', async (t) => {
  const cap = captureIo();
  t.is(await main(['--frobnicate'], cap.io), 2);
  t.regex(cap.stderr, /unknown option '--frobnicate'/);
});

const commands = await loadAllCommands();

test('the lazy table and each command agree on name and summary', (t) => {
  t.deepEqual(
    commands.map((c) => [c.name, c.summary]),
    commandTable.map((c) => [c.name, c.summary]),
  );
});

for (const command of commands) {
  test(`${command.name} --help shows usage and exits 0`, async (t) => {
    const cap = captureIo();
    t.is(await main([command.name, '--help'], cap.io), 0);
    t.regex(cap.stdout, new RegExp(`^Usage: podpath ${command.name}`));
    t.regex(cap.stdout, /-h, --help/);
  });

  test(`${command.name} rejects an unknown flag with exit 2 and no stack`, async (t) => {
    const cap = captureIo();
    t.is(await main([command.name, '--no-such-flag'], cap.io), 2);
    t.regex(cap.stderr, new RegExp(`^podpath: ${command.name}: Unknown option '--no-such-flag'`));
    t.notRegex(cap.stderr, /\n\s+at /);
  });
}
