import test from 'ava';
import { dockerPlatformOf, freeBytesAt, preflight } from './preflight.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedExec } from './testing/doubles.ts';
import { ExecError } from '../exec/index.ts';
import { EnvironmentError } from '../errors/index.ts';
import { Plan } from '../exec/index.ts';

const GiB = 1024 ** 3;
const dockerOk = () => new ScriptedExec().on('docker info', { stdout: '27.3.1|/var/lib/docker\n' });
// This machine has no Docker: tests that measure the Docker disk say its root exists.
const onHost = async () => true;

test('a healthy machine passes and reports the Docker version', async (t) => {
  const result = await preflight({ exec: dockerOk(), cacheDir: '/home/u/.cache/podpath', platform: 'linux', arch: 'x64', freeBytes: async () => 50 * GiB, exists: onHost });
  t.is(result.dockerVersion, '27.3.1');
  t.deepEqual(result.target, { os: 'linux', arch: 'amd64' });
  t.deepEqual(result.notes, []);
});

test('Docker daemon not running: exit 2, says to start it, quotes docker', async (t) => {
  const exec = new ScriptedExec().on('docker info', new ExecError('docker info', 1, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?'));
  const error = await t.throwsAsync(preflight({ exec, cacheDir: '/c', platform: 'linux', arch: 'x64' }), { instanceOf: EnvironmentError });
  t.is(error.exitCode, 2);
  t.regex(error.shortMessage, /Docker daemon is not running/);
  t.regex(error.hint ?? '', /Start Docker.*Cannot connect to the Docker daemon/s);
});

test('Docker not installed: names what to install', async (t) => {
  const exec = new ScriptedExec().on('docker', 'missing');
  const error = await t.throwsAsync(preflight({ exec, cacheDir: '/c', platform: 'darwin', arch: 'arm64' }), { instanceOf: EnvironmentError });
  t.regex(error.hint ?? '', /Docker Engine .*Docker Desktop/);
});

test('unsupported OS is refused before Docker is even asked', async (t) => {
  const exec = dockerOk();
  await t.throwsAsync(preflight({ exec, cacheDir: '/c', platform: 'win32', arch: 'x64' }), { instanceOf: EnvironmentError });
  t.deepEqual(exec.calls, []);
});

test('low disk for the cache or for Docker is an EnvironmentError with the numbers', async (t) => {
  const lowCache = await t.throwsAsync(
    preflight({ exec: dockerOk(), cacheDir: '/c', platform: 'linux', arch: 'x64', freeBytes: async (p) => (p === '/c' ? 0.2 * GiB : 50 * GiB) }),
    { instanceOf: EnvironmentError },
  );
  t.regex(lowCache.shortMessage, /0\.2 GiB free at \/c/);
  const lowDocker = await t.throwsAsync(
    preflight({ exec: dockerOk(), cacheDir: '/c', platform: 'linux', arch: 'x64', freeBytes: async (p) => (p === '/var/lib/docker' ? 2 * GiB : 50 * GiB), exists: onHost }),
    { instanceOf: EnvironmentError },
  );
  t.regex(lowDocker.shortMessage, /not enough disk for Docker: 2\.0 GiB free at \/var\/lib\/docker/);
  t.regex(lowDocker.hint ?? '', /docker system prune/);
});

test('a Docker root podpath cannot measure is a note, not a failure', async (t) => {
  const result = await preflight({ exec: dockerOk(), cacheDir: '/c', platform: 'linux', arch: 'x64', freeBytes: async (p) => (p === '/c' ? 50 * GiB : null), exists: onHost });
  t.regex(result.notes[0], /could not measure free disk for Docker at \/var\/lib\/docker/);
});

test('Docker Desktop: a root dir that is not on this host is not measured (the host disk is the wrong one), and a note says so', async (t) => {
  const measured: string[] = [];
  const asked: string[] = [];
  const result = await preflight({
    exec: dockerOk(), cacheDir: '/c', platform: 'darwin', arch: 'arm64',
    // The Mac's / has room; the VM's disk may not: a measurement here would wrongly pass.
    freeBytes: async (p) => (measured.push(p), 500 * GiB),
    exists: async (p) => (asked.push(p), false),
  });
  t.deepEqual(asked, ['/var/lib/docker']);
  t.deepEqual(measured, ['/c'], 'only the cache disk was measured');
  t.is(result.notes.length, 1);
  t.regex(result.notes[0], /did not check free disk for Docker: its root \/var\/lib\/docker is not on this host/);
  t.regex(result.notes[0], /6\.0 GiB/);
});

test('the real existence check: a missing Docker root skips the disk check, an existing one is measured', async (t) => {
  const missing = join(tmpdir(), `podpath-no-docker-root-${process.pid}`, 'docker');
  const low = async () => 0.5 * GiB;
  const skipped = await preflight({ exec: new ScriptedExec().on('docker info', { stdout: `29.0.0|${missing}\n` }), cacheDir: tmpdir(), platform: 'darwin', arch: 'arm64', freeBytes: async (p) => (p === missing ? low() : 50 * GiB) });
  t.regex(skipped.notes[0], /did not check free disk for Docker/);
  // tmpdir() exists here, so the 0.5 GiB reading counts and fails the check.
  await t.throwsAsync(
    preflight({ exec: new ScriptedExec().on('docker info', { stdout: `29.0.0|${tmpdir()}\n` }), cacheDir: '/c', platform: 'linux', arch: 'x64', freeBytes: async (p) => (p === tmpdir() ? low() : 50 * GiB) }),
    { instanceOf: EnvironmentError, message: /not enough disk for Docker/ },
  );
});

test('docker info platform: uname spelling becomes the OCI platform podpath pulls and saves', async (t) => {
  const arm = await preflight({ exec: new ScriptedExec().on('docker info', { stdout: '29.1.3|/var/lib/docker|linux|aarch64\n' }), cacheDir: '/c', platform: 'darwin', arch: 'arm64', freeBytes: async () => 50 * GiB, exists: onHost });
  t.is(arm.dockerPlatform, 'linux/arm64');
  t.is(arm.dockerVersion, '29.1.3');
  const x86 = await preflight({ exec: new ScriptedExec().on('docker info', { stdout: '28.0.0|/var/lib/docker|linux|x86_64\n' }), cacheDir: '/c', platform: 'linux', arch: 'x64', freeBytes: async () => 50 * GiB, exists: onHost });
  t.is(x86.dockerPlatform, 'linux/amd64');
  t.is(dockerPlatformOf('linux', 's390x'), null, 'unknown architectures fall back to the host target');
});

test('dry run records docker info and the disk check without measuring', async (t) => {
  const plan = new Plan();
  let measured = false;
  await preflight({ exec: dockerOk(), cacheDir: '/c', platform: 'linux', arch: 'x64', plan, freeBytes: async () => ((measured = true), 0) });
  t.false(measured);
  t.regex(plan.render(), /check free disk/);
});

test('free disk is measured at the nearest existing ancestor of a cache that does not exist yet', async (t) => {
  const free = await freeBytesAt(join(tmpdir(), 'podpath-no-such-dir', 'deeper'));
  t.is(typeof free, 'number');
  t.true((free ?? 0) > 0);
});
