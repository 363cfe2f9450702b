/**
 * Random and hostile bytes fed to the parsers behind `logs`, `explain` and `lint`, through the
 * CLI as a user would: every input ends in exit 0 or 2 with podpath's own message, never an
 * internal error or a stack trace, and the heap does not keep what the inputs cost.
 */
import test from 'ava';
import fc from 'fast-check';
import { PassThrough } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { main } from './main.ts';
import { captureIo } from '../testing/capture-io.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function run(argv: string[], stdin: Uint8Array): Promise<{ code: number; stderr: string }> {
  const cap = captureIo();
  const input = new PassThrough();
  input.end(stdin);
  const code = await main(argv, { ...cap.io, stdin: input });
  return { code, stderr: cap.stderr };
}

// Fragments that steer random bytes into the parsers' interesting paths.
const fragment = fc.constantFrom(
  '{', '}', '[', ']', '"', ':', ',', '\n', '\r\n', ' ', '\t', '\\', '\\u0000', 'null', 'true', '1e309', '-',
  '"configs":', '"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump"', '"dynamic_listeners":', '"filter_chain_matcher":',
  '"matcher_tree":', '"safe_regex":{"regex":"(a+)+$"}', '"kind":"Secret"', 'kind: Service', 'apiVersion: v1', '---', '&a [*a]', '*a', '!!binary',
  '[2024-09-01T12:00:00.000Z] "- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.33.7:5701" outbound|5701||x.svc.cluster.local - 10.244.1.8:5701 10.244.1.5:43300 - -',
  '\x1b[2J', '\xff\xfe', '\u202e',
);
const hostile = fc.oneof(
  fc.uint8Array({ maxLength: 4096 }),
  fc.array(fc.oneof(fragment, fc.string({ maxLength: 16 })), { maxLength: 200 }).map((parts) => new TextEncoder().encode(parts.join(''))),
  fc.array(fragment, { maxLength: 200 }).map((parts) => gzipSync(parts.join(''))),
);

const COMMANDS: Array<[string, string[]]> = [
  ['logs', ['logs', '-']],
  ['logs --json', ['logs', '--json', '-']],
  ['logs --summary --follow-from', ['logs', '--summary', '--follow-from', '10.244.1.5:43300', '-']],
  ['explain', ['explain', '--config-dump', '-', '--dst', '10.244.1.8:5701']],
  ['lint', ['lint', '-']],
];

for (const [name, argv] of COMMANDS) {
  test(`property: ${name} on random and hostile bytes exits 0 or 2, never an internal error, and keeps no memory`, async (t) => {
    gc();
    const before = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(hostile, async (bytes) => {
        const { code, stderr } = await run(argv, bytes);
        if (stderr.includes('internal error') || /\n\s+at .+:\d+:\d+\)?\n/.test(stderr)) throw new Error(`stack trace for ${Buffer.from(bytes).toString('base64')}:\n${stderr}`);
        if (code !== 0 && code !== 2) throw new Error(`exit ${code} for ${Buffer.from(bytes).toString('base64')}:\n${stderr}`);
      }),
      // Bounded in runs and in time; the limit is generous because the suite shares two cores
      // (fast-check fails a property interrupted before its first run completes).
      { numRuns: 120, interruptAfterTimeLimit: 25_000 },
    );
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    t.true(grown < 64 << 20, `heap grew ${Math.round(grown / (1 << 20))} MiB over the runs`);
  });
}
