/**
 * Test support: a stand-in `go` (a shell script on a temp PATH) and the oracle binary it "builds"
 * (a Node script that answers like oracle/common/main.go), so the generator's build, cache, abort
 * and error paths are tested in milliseconds, without Go.
 *
 * The fake go reads FAKE_GO_MODE from its environment: ok (default), fail (a module proxy error),
 * hang (writes half a binary, then waits to be killed), gate (waits for FAKE_GO_GATE to exist, then
 * builds). Every build appends a line to <dir>/go.log. The fake oracle reads FAKE_ORACLE from its
 * environment (the pilot env): fail, hang (writes its pid to <dir>/oracle.pid and waits), or
 * answers with one dump per proxy whose only config echoes ENABLE_X and LEAK from its env.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { OracleVersion } from '../../../oracle/versions.ts';
import type { OracleInput } from '../types.ts';

export interface FakeToolchain {
  /** Holds `go` (only `go`: not even `nice`). */
  bin: string;
  /** oracle/versions stand-in: <sourceRoot>/9.1/{main.go,go.mod}. */
  sourceRoot: string;
  cacheDir: string;
  versions: OracleVersion[];
  /** One line per `go build`: its cwd, GOFLAGS, what was at the -o path before it ran (none, current: the built binary, other) and its arguments. */
  builds(): Promise<string[]>;
  /** One line per oracle run: the input hash. */
  runs(): Promise<string[]>;
  dir: string;
}

const FAKE_GO = `#!/bin/sh
PATH=/usr/bin:/bin
out=$4
if cmp -s "$out" "$FAKE_DIR/oracle.template"; then prior=current; elif [ -e "$out" ]; then prior=other; else prior=none; fi
echo "$PWD GOFLAGS=[$GOFLAGS] prior=$prior $*" >> "$FAKE_DIR/go.log"
case "\${FAKE_GO_MODE:-ok}" in
  fail)
    echo "go: downloading istio.io/istio v0.0.0-fake" >&2
    echo "go: istio.io/istio@v0.0.0-fake: reading https://proxy.golang.org/istio.io/istio/@v/v0.0.0-fake.zip: 403 Forbidden" >&2
    exit 1 ;;
  hang)
    printf 'half a binary' > "$out"
    # A foreground child, as go build's compilers are: it records its pid, then becomes sleep.
    sh -c 'echo $$ > "$FAKE_DIR/go.started"; exec sleep 600'
    exit 0 ;;
  gate)
    echo $$ > "$FAKE_DIR/go.started"
    while [ ! -e "$FAKE_GO_GATE" ]; do sleep 0.02; done ;;
esac
cp "$FAKE_DIR/oracle.template" "$out"
chmod +x "$out"
`;

function fakeOracle(dir: string): string {
  return `#!${process.execPath}
const fs = require('node:fs');
const input = JSON.parse(fs.readFileSync(0, 'utf8'));
fs.appendFileSync(${JSON.stringify(join(dir, 'oracle.log'))}, input.inputsHash + '\\n');
if (process.env.FAKE_ORACLE === 'fail') {
  process.stderr.write('2026-12-01T00:00:00Z info ads some istiod log line\\noracle: proxy app-0.app: no such pod\\n');
  process.exit(1);
}
if (process.env.FAKE_ORACLE === 'hang') {
  fs.writeFileSync(${JSON.stringify(join(dir, 'oracle.pid'))}, String(process.pid));
  setInterval(() => {}, 1000);
} else {
  const dumps = {};
  for (const p of input.proxies) dumps[p.pod + '.' + p.namespace] = { configs: [{ enableX: process.env.ENABLE_X ?? null, leak: process.env.LEAK ?? null }] };
  process.stdout.write(JSON.stringify({ record: { istioModule: 'v0.0.0-fake', istioCommit: 'fake', goVersion: 'go0', inputsHash: input.inputsHash }, dumps }));
}
`;
}

export async function fakeToolchain(dir: string): Promise<FakeToolchain> {
  const bin = join(dir, 'bin');
  const sourceRoot = join(dir, 'versions');
  await mkdir(bin, { recursive: true });
  await mkdir(join(sourceRoot, '9.1'), { recursive: true });
  await writeFile(join(sourceRoot, '9.1', 'main.go'), 'package main\n\nfunc main() {}\n');
  await writeFile(join(sourceRoot, '9.1', 'go.mod'), 'module podpath.dev/oracle\n\ngo 1.24.0\n');
  await writeFile(join(bin, 'go'), FAKE_GO);
  await chmod(join(bin, 'go'), 0o755);
  await writeFile(join(dir, 'oracle.template'), fakeOracle(dir));
  const lines = async (file: string) => (await readFile(join(dir, file), 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return {
    dir,
    bin,
    sourceRoot,
    cacheDir: join(dir, 'cache'),
    versions: [
      { minor: '9.1', release: '9.1.0', module: 'v0.0.0-fake' },
      { minor: '9.2', release: '9.2.0', unavailable: 'the Go module proxy answers 403 for istio.io/istio at 9.2.0' },
    ],
    builds: () => lines('go.log'),
    runs: () => lines('oracle.log'),
  };
}

export function fakeInput(inputsHash = 'hash-1'): OracleInput {
  return {
    inputsHash,
    kubernetes: [],
    istioConfig: '',
    meshConfig: '',
    proxies: [{ pod: 'manager-0', namespace: 'manager', ip: '10.244.0.11', labels: { app: 'manager' }, istioVersion: '9.1.0' }],
  };
}
