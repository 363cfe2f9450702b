import test from 'ava';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, appendFile, stat, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ensureIstioctl, ensureKind, type ToolOptions } from './tools.ts';
import { parseChecksumFile, platformTarget, istioctlAsset, kindAsset, cacheRoot, parseToolVersion } from './assets.ts';
import { progressReporter, unsafeEntryReason, extractSafely } from './download.ts';
import { ScriptedExec } from './testing/doubles.ts';
import { Plan } from '../exec/index.ts';
import { EnvironmentError } from '../errors/index.ts';
import { tempDir } from '../testing/temp-dir.ts';

// --- a tar writer built from the ustar format (POSIX.1-1988), so fixtures can hold entries tar.c refuses to write

interface TarEntry {
  name: string;
  /** '0' file, '1' hard link, '2' symlink, '5' directory */
  type: '0' | '1' | '2' | '5';
  body?: string;
  linkname?: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(entry: TarEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  block.write(entry.name, 0, 100, 'utf8');
  block.write(octal(entry.type === '5' ? 0o755 : 0o755, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(1_700_000_000, 12), 136);
  block.write('        ', 148); // checksum counts as spaces while summing
  block.write(entry.type, 156);
  if (entry.linkname) block.write(entry.linkname, 157, 100, 'utf8');
  block.write('ustar\0', 257);
  block.write('00', 263);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

function tarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.type === '0' ? (entry.body ?? '') : '');
    parts.push(header(entry, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

// --- the fixture release host on 127.0.0.1, port 0

const KIND_BINARY = Buffer.from('#!/bin/sh\necho "kind v0.32.0 go1.26.3 linux/amd64"\n');
const ISTIOCTL_BINARY = '#!/bin/sh\necho 1.22.8\n';
const good = tarGz([{ name: 'istioctl', type: '0', body: ISTIOCTL_BINARY }]);
const traversal = tarGz([{ name: 'istioctl', type: '0', body: 'x' }, { name: '../../evil-traversal', type: '0', body: 'pwned' }]);
const absolute = tarGz([{ name: '/tmp/podpath-evil-absolute', type: '0', body: 'pwned' }]);
const symlink = tarGz([{ name: 'istioctl', type: '2', linkname: '../../../../etc/passwd' }]);
const hardlink = tarGz([{ name: 'istioctl', type: '1', linkname: '../outside' }]);
const truncated = good.subarray(0, Math.floor(good.length / 2));

const routes = new Map<string, Buffer | string>();
function release(version: string, archive: Buffer, checksum = sha(archive)) {
  const name = `istioctl-${version}-linux-amd64.tar.gz`;
  routes.set(`/istio/${version}/${name}`, archive);
  routes.set(`/istio/${version}/${name}.sha256`, `${checksum}  ${name}\n`);
}
release('1.22.8', good);
release('1.22.7', good, sha('something else'));
release('1.22.6', traversal);
release('1.22.5', symlink);
release('1.22.4', truncated);
release('1.22.2', absolute);
release('1.22.1', hardlink);
routes.set('/kind/v0.32.0/kind-linux-amd64', KIND_BINARY);
routes.set('/kind/v0.32.0/kind-linux-amd64.sha256sum', `${sha(KIND_BINARY)}  kind-linux-amd64\n`);
routes.set('/kind/v0.33.0/kind-linux-amd64', KIND_BINARY);
routes.set('/kind/v0.33.0/kind-linux-amd64.sha256sum', `${sha(KIND_BINARY)}  kind-linux-amd64\n`);

let server: Server;
let base: string;
const requests: string[] = [];
/** Routes whose answer waits until the test opens the gate (to hold a download in progress). */
const gates = new Map<string, { arrived: () => void; open: Promise<void> }>();

test.before(async () => {
  server = createServer(async (req, res) => {
    requests.push(req.url ?? '');
    const gate = gates.get(req.url ?? '');
    if (gate) {
      gate.arrived();
      await gate.open;
    }
    const body = routes.get(req.url ?? '');
    if (body === undefined) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

test.after.always(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function options(extra: Partial<ToolOptions> = {}): Promise<ToolOptions & { cache: string }> {
  const cache = await tempDir('podpath-tools-');
  return {
    exec: new ScriptedExec().on('kind', 'missing').on('istioctl', 'missing'),
    env: { XDG_CACHE_HOME: cache },
    platform: 'linux',
    arch: 'x64',
    sources: { kind: `${base}/kind`, istio: `${base}/istio` },
    ...extra,
    cache,
  };
}

/** Regular files only (directories such as tools/istioctl/ are not what a test looks for). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

test.serial('kind: downloads, verifies, caches, and reuses without a second download', async (t) => {
  const opts = await options();
  const first = await ensureKind('v0.32.0', opts);
  t.is(first.origin, 'download');
  t.deepEqual(await readFile(first.path), KIND_BINARY);
  t.is((await stat(first.path)).mode & 0o111, 0o111);
  t.true(first.path.startsWith(join(opts.cache, 'podpath', 'tools', 'kind', 'v0.32.0', 'linux-amd64')));
  const before = requests.length;
  const second = await ensureKind('0.32.0', opts);
  t.is(second.origin, 'cache');
  t.is(requests.length, before, 'the cache hit made no request');
});

test.serial('kind: a cached binary that no longer matches its record is replaced', async (t) => {
  const opts = await options();
  const first = await ensureKind('v0.32.0', opts);
  await appendFile(first.path, 'tampered');
  const again = await ensureKind('v0.32.0', opts);
  t.is(again.origin, 'download');
  t.deepEqual(await readFile(again.path), KIND_BINARY);
});

test.serial('istioctl: good archive is verified and extracted', async (t) => {
  const opts = await options();
  const tool = await ensureIstioctl('1.22.8', opts);
  t.is(tool.origin, 'download');
  t.is(await readFile(tool.path, 'utf8'), ISTIOCTL_BINARY);
  const leftovers = (await filesUnder(join(opts.cache, 'podpath'))).filter((f) => /download-|\.extract-|\.tar\.gz$/.test(f));
  t.deepEqual(leftovers, []);
});

test.serial('istioctl: a bad checksum is an EnvironmentError and nothing is kept', async (t) => {
  const opts = await options();
  const error = await t.throwsAsync(ensureIstioctl('1.22.7', opts), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /checksum mismatch/);
  t.regex(error.hint ?? '', /deleted/);
  const kept = (await filesUnder(join(opts.cache, 'podpath'))).filter((f) => f.endsWith('istioctl') || f.includes('tar.gz'));
  t.deepEqual(kept, []);
});

for (const [version, what, pattern] of [
  ['1.22.6', 'path traversal', /climbs out/],
  ['1.22.2', 'absolute path', /absolute path/],
  ['1.22.5', 'symlink escaping the target', /escapes the target/],
  ['1.22.1', 'hard link escaping the target', /escapes the target/],
] as const) {
  test.serial(`istioctl: an archive with a ${what} is refused and nothing is extracted`, async (t) => {
    const opts = await options();
    const error = await t.throwsAsync(ensureIstioctl(version, opts), { instanceOf: EnvironmentError });
    t.regex(error.shortMessage, /refusing to extract/);
    t.regex(error.shortMessage, pattern);
    t.false((await filesUnder(opts.cache)).some((f) => f.endsWith('istioctl') || f.includes('evil')));
    await t.throwsAsync(stat('/tmp/podpath-evil-absolute'));
  });
}

test.serial('istioctl: a truncated archive (with a matching checksum) is refused', async (t) => {
  const opts = await options();
  const error = await t.throwsAsync(ensureIstioctl('1.22.4', opts), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /truncated or corrupt/);
});

test.serial('istioctl: a missing release (404) names the URL', async (t) => {
  const opts = await options();
  const error = await t.throwsAsync(ensureIstioctl('1.22.3', opts), { instanceOf: EnvironmentError });
  t.regex(error.shortMessage, /HTTP 404 .*istioctl-1\.22\.3-linux-amd64\.tar\.gz\.sha256/);
});

test.serial('a binary on PATH with the right version is used as is, with no download', async (t) => {
  const exec = new ScriptedExec().on('kind version', { stdout: 'kind v0.32.0 go1.26.3 linux/amd64\n' });
  const opts = await options({ exec });
  const before = requests.length;
  const tool = await ensureKind('v0.32.0', opts);
  t.deepEqual(tool, { tool: 'kind', version: 'v0.32.0', path: 'kind', origin: 'path' });
  t.is(requests.length, before);
});

test.serial('a binary on PATH with another version is ignored', async (t) => {
  const exec = new ScriptedExec().on('istioctl version', { stdout: 'client version: 1.21.0\n' });
  const opts = await options({ exec });
  const tool = await ensureIstioctl('1.22.8', opts);
  t.is(tool.origin, 'download');
});

test.serial('dry run: plans the download, fetches nothing, writes nothing', async (t) => {
  const plan = new Plan();
  const opts = await options({ plan });
  const before = requests.length;
  const tool = await ensureIstioctl('1.22.8', opts);
  t.is(tool.origin, 'planned');
  t.is(requests.length, before);
  t.deepEqual(await readdir(opts.cache), []);
  t.regex(plan.render(), /download .*istioctl-1\.22\.8-linux-amd64\.tar\.gz and check it against .*\.sha256/);
  await rm(opts.cache, { recursive: true });
});

test('unsupported OS or CPU is an EnvironmentError naming what works', (t) => {
  const error = t.throws(() => platformTarget('win32', 'x64'), { instanceOf: EnvironmentError });
  t.regex(error.hint ?? '', /WSL2/);
  t.throws(() => platformTarget('linux', 'ia32'), { instanceOf: EnvironmentError });
  t.deepEqual(platformTarget('darwin', 'arm64'), { os: 'darwin', arch: 'arm64' });
});

test('release asset names follow the published GitHub layout', (t) => {
  const linux = { os: 'linux', arch: 'amd64' } as const;
  t.is(kindAsset('v0.32.0', linux).url, 'https://github.com/kubernetes-sigs/kind/releases/download/v0.32.0/kind-linux-amd64');
  t.is(kindAsset('0.32.0', linux).checksumUrl, 'https://github.com/kubernetes-sigs/kind/releases/download/v0.32.0/kind-linux-amd64.sha256sum');
  t.is(istioctlAsset('1.30.5', linux).url, 'https://github.com/istio/istio/releases/download/1.30.5/istioctl-1.30.5-linux-amd64.tar.gz');
  t.is(istioctlAsset('1.30.5', linux).checksumUrl, 'https://github.com/istio/istio/releases/download/1.30.5/istioctl-1.30.5-linux-amd64.tar.gz.sha256');
  t.is(istioctlAsset('1.30.5', { os: 'darwin', arch: 'arm64' }).fileName, 'istioctl-1.30.5-osx-arm64.tar.gz');
  t.is(istioctlAsset('1.30.5', { os: 'darwin', arch: 'amd64' }).fileName, 'istioctl-1.30.5-osx.tar.gz');
  t.is(istioctlAsset('1.30.5', { os: 'linux', arch: 'arm64' }).fileName, 'istioctl-1.30.5-linux-arm64.tar.gz');
});

test('checksum files: sha256sum text and binary modes, bare hashes, and the wrong file', (t) => {
  const hex = 'a'.repeat(64);
  t.is(parseChecksumFile(`${hex}  kind-linux-amd64\n`, 'kind-linux-amd64'), hex);
  t.is(parseChecksumFile(`${hex.toUpperCase()} *kind-linux-amd64`, 'kind-linux-amd64'), hex);
  t.is(parseChecksumFile(`${hex}\n`, 'anything'), hex);
  t.throws(() => parseChecksumFile(`${hex}  kind-darwin-arm64\n`, 'kind-linux-amd64'), { instanceOf: EnvironmentError });
  t.throws(() => parseChecksumFile('<html>not found</html>', 'kind-linux-amd64'), { instanceOf: EnvironmentError });
});

test('cache root honours XDG_CACHE_HOME and falls back to ~/.cache', (t) => {
  t.is(cacheRoot({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }), '/x/cache/podpath');
  t.is(cacheRoot({ HOME: '/home/u' }), '/home/u/.cache/podpath');
  t.is(cacheRoot({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }), '/home/u/.cache/podpath', 'XDG spec: relative paths are ignored');
});

test('tool versions are read from their version output', (t) => {
  t.is(parseToolVersion('kind v0.32.0 go1.26.3 linux/amd64'), 'v0.32.0');
  t.is(parseToolVersion('client version: 1.22.8\n'), '1.22.8');
  t.is(parseToolVersion('no version here'), null);
});

test('unsafe entry rules', (t) => {
  t.is(unsafeEntryReason('istioctl', 'File'), null);
  t.is(unsafeEntryReason('bin/', 'Directory'), null);
  t.is(unsafeEntryReason('bin/tool', 'SymbolicLink', 'real-tool'), null);
  t.is(unsafeEntryReason('bin/tool', 'SymbolicLink', '../share/tool'), null, 'stays inside the target');
  t.regex(unsafeEntryReason('bin/tool', 'SymbolicLink', '../../tool') ?? '', /escapes/);
  t.regex(unsafeEntryReason('a/../../b', 'File') ?? '', /climbs out/);
  t.regex(unsafeEntryReason('C:\\evil', 'File') ?? '', /absolute/);
  t.regex(unsafeEntryReason('dev', 'CharacterDevice') ?? '', /unsupported type/);
  // A link with no target would resolve to its own directory: refused, not guessed at.
  for (const type of ['SymbolicLink', 'Link'] as const) {
    t.regex(unsafeEntryReason('bin/tool', type, '') ?? '', /link 'bin\/tool' has no target/, type);
    t.regex(unsafeEntryReason('bin/tool', type) ?? '', /has no target/, `${type} without linkpath`);
  }
});

test('extractSafely extracts a clean archive into a fresh directory', async (t) => {
  const dir = await tempDir('podpath-extract-');
  const archive = join(dir, 'a.tar.gz');
  await import('node:fs/promises').then((fs) => fs.writeFile(archive, tarGz([{ name: 'd', type: '5' }, { name: 'd/f', type: '0', body: 'hello' }])));
  const out = await extractSafely(archive, dir);
  t.is(await readFile(join(out, 'd', 'f'), 'utf8'), 'hello');
});

test('progress: plain lines without carriage returns or escapes when not a TTY', (t) => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const report = progressReporter(stream, 'downloading kind', false);
  for (let i = 0; i <= 100; i++) report(i * 1000, 100_000);
  report.done();
  t.notRegex(text, /[\r\x1b]/);
  const lines = text.trim().split('\n');
  t.is(lines.length, 5, '0, 25, 50, 75 and 100 percent');
  t.regex(lines.at(-1) ?? '', /100%/);
});

test('progress: one rewritten line on a TTY', (t) => {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  const report = progressReporter(stream, 'downloading kind', true);
  report(50, 100);
  report(100, 100);
  report.done();
  t.regex(text, /^\rdownloading kind: +50% .*\rdownloading kind: 100% .*\n$/s);
  t.notRegex(text, /\x1b/);
});

/** Resolves with the first text written to the stream that matches. */
function written(stream: PassThrough, pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) resolve(text);
    });
  });
}

test.serial('two concurrent downloads of the same tool: the second waits for the first, neither removes the other\'s work', async (t) => {
  const opts = await options();
  t.teardown(() => rm(opts.cache, { recursive: true, force: true }));
  const url = '/kind/v0.33.0/kind-linux-amd64';
  let arrived!: () => void;
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  let open!: () => void;
  gates.set(url, { arrived: () => arrived(), open: new Promise<void>((resolve) => (open = resolve)) });
  t.teardown(() => {
    open();
    gates.delete(url);
  });
  const before = requests.filter((r) => r === url).length;

  const first = ensureKind('v0.33.0', { ...opts, progress: new PassThrough() });
  await firstArrived; // the first download is now in progress, holding the lock
  const secondProgress = new PassThrough();
  const waiting = written(secondProgress, /waiting for another podpath to finish downloading kind v0\.33\.0 \(process \d+ on /);
  // Without the lock the second would request the binary too (and, before, removed the first's directory).
  let secondRequest!: () => void;
  const secondArrived = new Promise<string>((resolve) => (secondRequest = () => resolve('second request')));
  gates.set(url, { arrived: () => secondRequest(), open: Promise.resolve() });
  const second = ensureKind('v0.33.0', { ...opts, progress: secondProgress });
  const what = await Promise.race([waiting.then(() => 'waited'), secondArrived]);
  t.is(what, 'waited');
  open();
  const [a, b] = await Promise.all([first, second]);
  t.is(a.origin, 'download');
  t.is(b.origin, 'cache', 'the second found the first one\'s verified download');
  t.is(a.path, b.path);
  t.deepEqual(await readFile(a.path), KIND_BINARY);
  t.is(requests.filter((r) => r === url).length - before, 1, 'downloaded once');
  const left = (await readdir(join(opts.cache, 'podpath', 'tools', 'kind'), { recursive: true })).filter((f) => /partial|\.lock|stale|download-/.test(f));
  t.deepEqual(left, [], 'no partial directory or lock file is left');
});
