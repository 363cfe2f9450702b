/**
 * The agent as pods run it: `node workload/agent.ts [flags]` in a child process (127.0.12.x),
 * also from the layout its ConfigMap volume projects. That its import closure needs only node:*
 * is harness/architecture.test.ts's rule.
 */
import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import net from 'node:net';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { control, startPeer } from './testing/peers.ts';
import { agentFiles } from '../manifests/index.ts';
import { AGENT_ENTRY, AGENT_FILES, AGENT_MOUNT } from '../../manifests/topology.ts';
import { isEntryScript } from './agent.ts';
import type { ProbeResult } from '../probe/contract.ts';

/**
 * A port nothing listens on at `host` right now. The agent's flags refuse port 0, and fixed ports
 * collide with another copy of this suite running on the same machine.
 */
/** N distinct free ports: each listener stays open until all are picked, so the kernel cannot hand one out twice. */
async function freePorts(host: string, n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  try {
    for (const server of servers) await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

const agentPath = fileURLToPath(new URL('./agent.ts', import.meta.url));
const ip = (n: number): string => `127.0.12.${n}`;
// Where these addresses cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [ip(1)]);

type Child = ChildProcessByStdio<null, Readable, Readable>;

function run(args: string[], env: Record<string, string> = {}, cwd?: string): { child: Child; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
  return { child, stdout: () => out, stderr: () => err };
}

async function exitCode(child: Child): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/** Resolves once stdout shows `pattern`; rejects as soon as the child exits without it. The time limit only guards a hang. */
function waitForLine(p: { child: Child; stdout: () => string; stderr: () => string }, pattern: RegExp, hangMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (pattern.test(p.stdout())) done(null);
    };
    const exited = (code: number | null, signal: string | null): void => done(new Error(`the agent exited (${code ?? signal}) before a line matching ${pattern}; stdout: ${p.stdout()} stderr: ${p.stderr()}`));
    const timer = setTimeout(() => done(new Error(`no line matching ${pattern} after ${hangMs} ms: ${p.stdout()}`)), hangMs);
    function done(error: Error | null): void {
      clearTimeout(timer);
      p.child.stdout.off('data', check);
      p.child.off('exit', exited);
      if (error) reject(error);
      else resolve();
    }
    // Our own 'data' listener runs after run()'s, which appended the chunk.
    p.child.stdout.on('data', check);
    p.child.once('exit', exited);
    if (p.child.exitCode !== null || p.child.signalCode !== null) exited(p.child.exitCode, p.child.signalCode);
    check();
  });
}

test('node agent.ts --help prints usage and exits 0', async (t) => {
  const p = run([agentPath, '--help']);
  t.is(await exitCode(p.child), 0);
  t.regex(p.stdout(), /^Usage: node agent\.ts \[options\]/);
  for (const flag of ['--tcp-port', '--http-port', '--control-port', '--bind', 'TCP_PORTS', 'POD_NAME']) t.true(p.stdout().includes(flag), flag);
  t.is(p.stderr(), '');
});

test('bad flags: one message, a hint, exit 2, no stack', async (t) => {
  for (const args of [['--nope'], ['--tcp-port', '0'], ['--control-port', 'x'], ['--bind', 'not-an-ip'], ['extra']]) {
    const p = run([agentPath, ...args]);
    t.is(await exitCode(p.child), 2, args.join(' '));
    t.regex(p.stderr(), /^agent: .+\nRun 'node agent\.ts --help' for usage\.\n$/, args.join(' '));
    t.is(p.stdout(), '');
  }
  const env = run([agentPath], { TCP_PORTS: '5701,abc' });
  t.is(await exitCode(env.child), 2);
  t.regex(env.stderr(), /TCP_PORTS entry must be a port number/);
});

/**
 * The agent's files as a ConfigMap volume with `items` lays them out (kubelet's atomic writer,
 * kubernetes/kubernetes pkg/volume/util/atomic_writer.go): the data in a timestamped directory,
 * `..data` linking to it, and one link per top-level path element (`workload -> ..data/workload`).
 */
async function projectConfigMap(dir: string): Promise<void> {
  const files = await agentFiles();
  const ts = '..2026_12_01_10_00_00.123';
  for (const item of AGENT_FILES) {
    await mkdir(join(dir, ts, dirname(item.path)), { recursive: true });
    await writeFile(join(dir, ts, item.path), files[item.key]);
  }
  await symlink(ts, join(dir, '..data'));
  for (const top of new Set(AGENT_FILES.map((f) => f.path.split('/')[0]))) await symlink(join('..data', top), join(dir, top));
}

const entryIn = (mount: string): string => join(mount, relative(AGENT_MOUNT, AGENT_ENTRY));

test('runs from the ConfigMap layout, with no package.json or node_modules around it, through its symlinks', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-agent-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await projectConfigMap(dir);
  t.is((await readdir(dir)).filter((e) => !e.startsWith('..')).sort().join(','), 'probe,workload', 'only the projected paths are visible');
  // Started by the path the container command names, from a directory that holds nothing else.
  const p = run([entryIn(dir), '--help'], {}, dir);
  t.is(await exitCode(p.child), 0, p.stderr());
  t.regex(p.stdout(), /^Usage: node agent\.ts/);
});

test('the agent alone does not run: the layout must ship the contract beside it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'podpath-agent-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'workload'));
  await copyFile(agentPath, join(dir, 'workload', 'agent.ts'));
  const p = run([join(dir, 'workload', 'agent.ts'), '--help'], {}, dir);
  t.not(await exitCode(p.child), 0);
  t.regex(p.stderr(), /ERR_MODULE_NOT_FOUND[\s\S]*contract\.ts|contract\.ts[\s\S]*ERR_MODULE_NOT_FOUND/);
});

test('the entry check: the started script, through symlinks; never an import or a missing path', (t) => {
  const real: Record<string, string> = { '/agent/workload/agent.ts': '/agent/..2026_12_01/workload/agent.ts', '/agent/..2026_12_01/workload/agent.ts': '/agent/..2026_12_01/workload/agent.ts' };
  const realpath = (p: string) => {
    if (!(p in real)) throw new Error(`ENOENT ${p}`);
    return real[p];
  };
  t.true(isEntryScript('/agent/workload/agent.ts', 'file:///agent/..2026_12_01/workload/agent.ts', realpath));
  t.false(isEntryScript('/work/harness/runner/suite.ts', 'file:///agent/..2026_12_01/workload/agent.ts', realpath), 'imported by another entry');
  t.false(isEntryScript(undefined, 'file:///agent/..2026_12_01/workload/agent.ts', realpath), 'node -e / REPL');
  t.false(isEntryScript('/agent/workload/agent.ts', 'data:text/javascript,', realpath));
});

test('the entry point does not use import.meta.main (Node >= 24.2 only: an older image would exit 0 at once)', async (t) => {
  const source = await readFile(agentPath, 'utf8');
  const code = source.split('\n').filter((l) => !/^\s*(\*|\/\/)/.test(l)).join('\n');
  t.notRegex(code, /import\.meta\.main/);
});

test('env vars configure it, it logs JSON lines, SIGTERM lets the in-flight probe finish and exits 0 within 2 s', async (t) => {
  await using silent = await startPeer(ip(2), 0, 'silent');
  const [tcpA, tcpB, httpPort, controlPort] = await freePorts(ip(1), 4);
  const p = run([agentPath], { BIND_ADDRESS: ip(1), TCP_PORTS: `${tcpA},${tcpB}`, HTTP_PORT: String(httpPort), CONTROL_PORT: String(controlPort), POD_NAME: 'manager-x', POD_NAMESPACE: 'manager', POD_IP: '10.1.2.3', ALLOW_LOCAL_TARGETS: '1' });
  t.teardown(() => { p.child.kill('SIGKILL'); });
  await waitForLine(p, /"event":"started"/);
  const started = JSON.parse(p.stdout().split('\n')[0]) as Record<string, unknown>;
  t.deepEqual(started.tcpPorts, [tcpA, tcpB]);
  t.is(started.httpPort, httpPort);
  t.deepEqual(started.identity, { pod: 'manager-x', namespace: 'manager', ip: '10.1.2.3' });

  const echo = await control(ip(1), controlPort, 'POST', '/probe', { target: `${ip(1)}:${tcpB}`, protocol: 'tcp', timeoutMs: 2000 });
  t.is((echo.body as ProbeResult[])[0].responder?.pod, 'manager-x');

  const inFlight = control(ip(1), controlPort, 'POST', '/probe', { target: `${ip(2)}:${silent.port}`, protocol: 'tcp', timeoutMs: 700 });
  await silent.accepted(1);
  const sentAt = Date.now();
  p.child.kill('SIGTERM');
  const res = await inFlight;
  t.is(res.status, 200);
  t.is((res.body as ProbeResult[])[0].outcome, 'timeout');
  t.is(await exitCode(p.child), 0);
  // The agent's own limit is 1.9 s; a busy machine may add to it, so the bound only rules out waiting for anything longer.
  t.true(Date.now() - sentAt < 15_000, `exited ${Date.now() - sentAt} ms after SIGTERM`);

  const lines = p.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  // The in-flight probe ends after the signal was logged, and before the agent says it stopped.
  t.deepEqual(lines.map((l) => l.event), ['started', 'probe', 'stopping', 'probe', 'stopped']);
  t.is(lines[3].outcome, 'timeout');
  t.regex(String(lines[3].time), /^\d{4}-\d\d-\d\dT/);
});

test('SIGTERM with a probe longer than the grace: answered 503, still exits 0 within 2 s', async (t) => {
  await using silent = await startPeer(ip(4), 0, 'silent');
  const [controlPort] = await freePorts(ip(3), 1);
  const p = run([agentPath, '--bind', ip(3), '--control-port', String(controlPort), '--allow-local-targets']);
  t.teardown(() => { p.child.kill('SIGKILL'); });
  await waitForLine(p, /"event":"started"/);
  const inFlight = control(ip(3), controlPort, 'POST', '/probe', { target: `${ip(4)}:${silent.port}`, protocol: 'tcp', timeoutMs: 30_000 });
  await silent.accepted(1);
  const sentAt = Date.now();
  p.child.kill('SIGTERM');
  t.is((await inFlight).status, 503);
  t.is(await exitCode(p.child), 0);
  // Well under the probe's 30 s: the agent did not wait for it (its grace is 1.5 s; the margin is for a busy machine).
  t.true(Date.now() - sentAt < 15_000, `exited ${Date.now() - sentAt} ms after SIGTERM`);
});

test('a port already in use: message on stderr, non-zero exit', async (t) => {
  await using taken = await startPeer(ip(5), 0, 'silent');
  const p = run([agentPath, '--bind', ip(5), '--control-port', String(taken.port)]);
  t.is(await exitCode(p.child), 1);
  t.regex(p.stderr(), /^agent: cannot listen on 127\.0\.12\.5: .*EADDRINUSE/);
});
