import test from 'ava';
import { PassThrough } from 'node:stream';
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

for (const argv of [['logs', '-'], ['logs', '-', '--follow-from', '10.0.0.1:1234'], ['explain', '--config-dump', '-', '--dst', '10.0.0.1:80'], ['lint', '-']]) {
  test(`interrupt with stdin idle ends '${argv.join(' ')}' at once with 130`, async (t) => {
    const cap = captureIo();
    // stdin that is open and silent, like `podpath logs - < fifo` with no writer yet.
    const stdin = new PassThrough();
    const io = { ...cap.io, stdin };
    const controller = new AbortController();
    const running = main(argv, io, controller.signal);
    // Let the command reach its read before the signal arrives.
    await new Promise<void>((resolve) => {
      const check = (): void => (stdin.listenerCount('data') + stdin.listenerCount('readable') > 0 ? resolve() : void setImmediate(check));
      check();
    });
    controller.abort(new Error('SIGINT'));
    t.is(await running, 130);
    t.regex(cap.stderr, /interrupted/);
    t.notRegex(cap.stderr, /internal error/);
  });
}

test('an interrupt during a command that never reads stdin does not crash on the ended stdin', async (t) => {
  const cap = captureIo();
  const stdin = new PassThrough();
  const controller = new AbortController();
  // --help returns at once; abort after main has attached its listener and while nothing reads stdin.
  const running = main(['logs', '--help'], { ...cap.io, stdin }, controller.signal);
  controller.abort(new Error('SIGINT'));
  t.is(await running, 0);
  const crashed = await new Promise<boolean>((resolve) => setImmediate(() => resolve(false)));
  t.false(crashed);
  t.true(stdin.destroyed);
});

test('run without a scenario catalogue says how to start podpath, exit 2, no stack', async (t) => {
  const cap = captureIo();
  t.is(await main(['run', '--dry-run'], cap.io), 2);
  t.regex(cap.stderr, /^podpath: podpath run was started without a scenario catalogue\n.*bin\/podpath\.ts/m);
  t.notRegex(cap.stderr, /\n\s+at /);
});

test('the package\'s bin starts the CLI with the compile cache on before any TypeScript loads', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { readFileSync } = await import('node:fs');
  const root = new URL('../../', import.meta.url);
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { bin: { podpath: string } };
  t.regex(pkg.bin.podpath, /\.js$/, 'a .ts bin would be type-stripped before it could turn the cache on');
  const bin = new URL(pkg.bin.podpath, root);
  t.is(execFileSync(process.execPath, [bin.pathname, '--version'], { encoding: 'utf8' }), `podpath ${version}\n`);
  // The launcher hands over to the composition root, which joins the CLI and the catalogue.
  t.regex(readFileSync(bin, 'utf8'), /import\('\.\/podpath\.ts'\)/);
});
