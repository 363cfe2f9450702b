/**
 * Every probe outcome against a real peer that behaves that way, on loopback (127.0.10.x are the
 * "pod IPs"; each test has its own addresses because ava runs them concurrently).
 */
import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { runProbe, startAgent } from './agent.ts';
import type { ProbeResult } from '../probe/contract.ts';
import { startPeer } from './testing/peers.ts';

const ip = (n: number): string => `127.0.10.${n}`;
// Where these addresses cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [ip(1)]);
const TCP = 5701;
const HTTP = 8080;
const CONTROL = 15999;

function only(results: ProbeResult[]): ProbeResult {
  if (results.length !== 1) throw new Error(`expected one result, got ${results.length}`);
  return results[0];
}

test('tcp WHO to an agent: echoed, responder is that agent, localAddress is what it saw', async (t) => {
  await using server = await startAgent({ bind: ip(1), tcpPorts: [TCP], controlPort: CONTROL, identity: { pod: 'manager-0', namespace: 'manager' } });
  // A plain echo peer on the same address records the remote end it saw.
  await using witness = await startPeer(ip(1), 5702, 'echo');
  const r = only(await runProbe({ target: `${ip(1)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000 }, { localBind: ip(2) }));
  t.is(r.outcome, 'echoed');
  t.deepEqual(r.responder, { pod: 'manager-0', namespace: 'manager', ip: ip(1), port: TCP, protocol: 'tcp' });
  t.is(r.remoteAddress, `${ip(1)}:${TCP}`);
  t.regex(r.localAddress ?? '', /^127\.0\.10\.2:\d+$/);
  t.is(r.bytesSent, 4);
  t.true(r.bytesReceived > 4);
  t.true(r.connectMs !== null && r.firstByteMs !== null && r.firstByteMs >= r.connectMs);
  t.is(r.error, undefined);

  const w = only(await runProbe({ target: `${ip(1)}:5702`, protocol: 'tcp', timeoutMs: 10_000, payload: 'hello\n' }, { localBind: ip(2) }));
  t.is(w.outcome, 'echoed');
  t.is(w.responder, undefined, 'a plain echo has no identity');
  t.deepEqual(witness.remotes, [w.localAddress]);
});

test('tcp payload through the agent comes back intact, WHO lines inside are not echoed', async (t) => {
  await using server = await startAgent({ bind: ip(3), tcpPorts: [TCP], controlPort: CONTROL, identity: { pod: 'p', namespace: 'n' } });
  const payload = 'line one\nWHOM\n\x00\xff binary-ish\n';
  const r = only(await runProbe({ target: `${ip(3)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000, payload }));
  t.is(r.outcome, 'echoed');
  t.is(r.bytesReceived, Buffer.byteLength(payload));
  const mixed = only(await runProbe({ target: `${ip(3)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000, payload: 'a\nWHO\nb\n' }));
  t.is(mixed.outcome, 'error', 'the WHO line was answered with an identity, so the echo differs');
  t.regex(mixed.error ?? '', /echo differs/);
});

test('tcp WHO to a plain echo server: echoed without a responder', async (t) => {
  await using peer = await startPeer(ip(4), TCP, 'echo');
  const r = only(await runProbe({ target: `${ip(4)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000 }, { localBind: ip(5) }));
  t.is(r.outcome, 'echoed');
  t.is(r.responder, undefined);
  t.deepEqual(peer.remotes, [r.localAddress]);
});

test('tcp to a peer that answers something else: error naming the reply', async (t) => {
  await using peer = await startPeer(ip(6), TCP, 'garbage');
  const r = only(await runProbe({ target: `${ip(6)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000 }));
  t.is(r.outcome, 'error');
  t.regex(r.error ?? '', /^unexpected reply to WHO: \d+ bytes, neither WHO nor an identity line$/);
  t.notRegex(r.error ?? '', /smtp/, 'reply bytes are not echoed back');
  t.true(r.bytesReceived > 0);
});

test('tcp WHO answered by an endless line: error once the reply outgrows the cap, not a timeout', async (t) => {
  const net = await import('node:net');
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.write(Buffer.alloc(100 * 1024, 0x7a)));
  });
  await new Promise<void>((resolve) => server.listen({ host: ip(29), port: TCP }, resolve));
  t.teardown(() => { server.close(); });
  const r = only(await runProbe({ target: `${ip(29)}:${TCP}`, protocol: 'tcp', timeoutMs: 5000 }));
  t.is(r.outcome, 'error');
  t.regex(r.error ?? '', /^reply exceeds 65536 bytes/);
  t.true(r.totalMs < 5000);
});

test('tcp accept then FIN before any byte: closed-after-connect, localAddress is what the peer saw', async (t) => {
  await using peer = await startPeer(ip(7), TCP, 'fin');
  const r = only(await runProbe({ target: `${ip(7)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000 }, { localBind: ip(8) }));
  t.is(r.outcome, 'closed-after-connect');
  t.regex(r.error ?? '', /FIN/);
  t.is(r.bytesReceived, 0);
  t.is(r.firstByteMs, null);
  t.not(r.connectMs, null);
  t.deepEqual(peer.remotes, [r.localAddress]);
});

test('tcp accept then RST before any byte: closed-after-connect with the reset code', async (t) => {
  await using peer = await startPeer(ip(9), TCP, 'rst');
  const r = only(await runProbe({ target: `${ip(9)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000 }, { localBind: ip(10) }));
  t.is(r.outcome, 'closed-after-connect');
  t.regex(r.error ?? '', /ECONNRESET|EPIPE/);
  t.is(r.bytesReceived, 0);
  t.deepEqual(peer.remotes, [r.localAddress]);
});

test('tcp RST after data flowed: reset', async (t) => {
  await using peer = await startPeer(ip(11), TCP, 'rst-after-data');
  const r = only(await runProbe({ target: `${ip(11)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000 }));
  t.is(r.outcome, 'reset');
  t.regex(r.error ?? '', /ECONNRESET/);
  t.is(r.bytesReceived, Buffer.byteLength('partial reply without newline'));
  t.not(r.firstByteMs, null);
});

test('tcp to a closed port: refused, never connected', async (t) => {
  const r = only(await runProbe({ target: `${ip(12)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000 }));
  t.is(r.outcome, 'refused');
  t.regex(r.error ?? '', /ECONNREFUSED/);
  t.is(r.remoteAddress, null);
  t.is(r.connectMs, null);
});

test('tcp to a peer that accepts and never answers: first-byte timeout, honoured', async (t) => {
  await using peer = await startPeer(ip(13), TCP, 'silent');
  // One budget covers connect and first byte: 1.5 s lets a busy machine finish the loopback handshake first.
  const r = only(await runProbe({ target: `${ip(13)}:${TCP}`, protocol: 'tcp', timeoutMs: 1500 }));
  t.is(r.outcome, 'timeout');
  t.regex(r.error ?? '', /^first-byte timeout/);
  // Node's timer clock is whole milliseconds, so allow for one ms of rounding.
  t.true(r.totalMs >= 1499, `gave up after ${r.totalMs} ms`);
  t.deepEqual(peer.remotes, [r.localAddress]);
});

test('tcp to a listener whose accept queue is full: connect timeout', async (t) => {
  // A child process listens with backlog 1 and then blocks its event loop, so the kernel
  // queues a couple of handshakes and drops every later SYN: connect() never completes.
  const host = ip(14);
  const child = spawn(process.execPath, ['-e', `
    const net = require('node:net');
    net.createServer().listen({ host: ${JSON.stringify(host)}, port: ${TCP}, backlog: 1 }, () => {
      process.stdout.write('ready\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000);
      process.exit(0);
    });`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill('SIGKILL'); });
  await once(child.stdout, 'data');
  const fillers: net.Socket[] = [];
  t.teardown(() => { for (const s of fillers) s.destroy(); });
  // Fill the accept queue until a handshake no longer completes.
  let full = false;
  for (let i = 0; i < 8 && !full; i++) {
    const s = net.connect({ host, port: TCP });
    s.on('error', () => {});
    fillers.push(s);
    full = !(await Promise.race([once(s, 'connect').then(() => true), new Promise((r) => setTimeout(() => r(false), 300))]));
  }
  t.true(full, 'the accept queue never filled');
  const r = only(await runProbe({ target: `${host}:${TCP}`, protocol: 'tcp', timeoutMs: 200 }));
  t.is(r.outcome, 'timeout');
  t.regex(r.error ?? '', /^connect timeout/);
  t.is(r.remoteAddress, null);
  t.is(r.connectMs, null);
});

test('count: sequential attempts, one result each, each on its own connection', async (t) => {
  await using peer = await startPeer(ip(15), TCP, 'echo');
  const results = await runProbe({ target: `${ip(15)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000, count: 3 });
  t.deepEqual(results.map((r) => r.outcome), ['echoed', 'echoed', 'echoed']);
  t.deepEqual(peer.remotes, results.map((r) => r.localAddress));
  t.is(new Set(peer.remotes).size, 3);
});

test('http GET to an agent: answered, status, headers, responder with the remote it saw', async (t) => {
  await using server = await startAgent({ bind: ip(16), tcpPorts: [], httpPort: HTTP, controlPort: CONTROL, identity: { pod: 'app-0', namespace: 'app', ip: '10.244.0.7' } });
  const r = only(await runProbe({ target: `${ip(16)}:${HTTP}`, protocol: 'http', timeoutMs: 10_000, httpHost: 'app.app.svc.cluster.local', httpPath: '/hello?x=1' }, { localBind: ip(17) }));
  t.is(r.outcome, 'answered');
  t.is(r.httpStatus, 200);
  t.is(r.httpHeaders?.['content-type'], 'application/json');
  t.is(r.responder?.pod, 'app-0');
  t.is(r.responder?.ip, '10.244.0.7', 'POD_IP wins over the bind address');
  t.is(r.responder?.protocol, 'http');
  t.is(r.responder?.port, HTTP);
  t.is(r.responder?.host, 'app.app.svc.cluster.local');
  t.is(r.responder?.remote, r.localAddress ?? 'missing');
  t.regex(r.localAddress ?? '', /^127\.0\.10\.17:/);
  t.is(r.responder?.headers?.['user-agent'], 'podpath-agent');
});

test('http POST payload goes to /echo and an error status is still answered', async (t) => {
  await using server = await startAgent({ bind: ip(18), tcpPorts: [], httpPort: HTTP, controlPort: CONTROL, identity: { pod: 'p', namespace: 'n' } });
  const echo = only(await runProbe({ target: `${ip(18)}:${HTTP}`, protocol: 'http', timeoutMs: 10_000, payload: '{"hi":1}' }));
  t.is(echo.outcome, 'answered');
  t.is(echo.httpStatus, 200);
  t.is(echo.responder, undefined);
  const wrong = only(await runProbe({ target: `${ip(18)}:${HTTP}`, protocol: 'http', timeoutMs: 10_000, payload: 'x', httpPath: '/nope' }));
  t.is(wrong.outcome, 'answered');
  t.is(wrong.httpStatus, 405);
});

test('http to peers that FIN, RST, RST after data, refuse or stay silent', async (t) => {
  await using fin = await startPeer(ip(19), TCP, 'fin');
  await using rst = await startPeer(ip(20), TCP, 'rst');
  await using late = await startPeer(ip(21), TCP, 'rst-after-data', { data: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial body' });
  await using silent = await startPeer(ip(22), TCP, 'silent');
  const probe = async (n: number, timeoutMs = 10_000) => only(await runProbe({ target: `${ip(n)}:${TCP}`, protocol: 'http', timeoutMs }, { localBind: ip(24) }));

  const a = await probe(19);
  t.is(a.outcome, 'closed-after-connect');
  t.regex(a.error ?? '', /FIN/);
  t.deepEqual(fin.remotes, [a.localAddress]);

  const b = await probe(20);
  t.is(b.outcome, 'closed-after-connect');
  t.regex(b.error ?? '', /ECONNRESET/);
  t.deepEqual(rst.remotes, [b.localAddress]);

  const c = await probe(21);
  t.is(c.outcome, 'reset');
  t.is(c.httpStatus, 200, 'the status line arrived before the reset');
  t.regex(c.error ?? '', /^response truncated: .*ECONNRESET/);
  t.true(c.bytesReceived > 0);

  const d = await probe(23);
  t.is(d.outcome, 'refused');

  const e = await probe(22, 1500);
  t.is(e.outcome, 'timeout');
  t.regex(e.error ?? '', /^first-byte timeout/);
  t.true(e.totalMs >= 1499);
  t.deepEqual(silent.remotes, [e.localAddress]);
});

test('an aborted probe stops at once and rejects with the reason', async (t) => {
  await using peer = await startPeer(ip(25), TCP, 'silent');
  const controller = new AbortController();
  const pending = runProbe({ target: `${ip(25)}:${TCP}`, protocol: 'tcp', timeoutMs: 60_000, count: 5 }, { signal: controller.signal });
  // Abort once the first attempt is connected and waiting: a fixed delay raced the accept.
  await peer.accepted(1);
  controller.abort(new Error('stop now'));
  await t.throwsAsync(pending, { message: 'stop now' });
  t.is(peer.remotes.length, 1, 'no further attempt after the abort');
});

test('runProbe validates what it is given', async (t) => {
  await t.throwsAsync(runProbe({ target: `${ip(26)}:0`, protocol: 'tcp', timeoutMs: 100 }), { name: 'ProbeRequestError' });
});

test('the agent control API probes another agent (A → B) from its own address', async (t) => {
  await using a = await startAgent({ bind: ip(27), tcpPorts: [TCP], controlPort: CONTROL, identity: { pod: 'a', namespace: 'manager' }, allowLocalTargets: true });
  await using b = await startAgent({ bind: ip(28), tcpPorts: [TCP], httpPort: HTTP, controlPort: CONTROL, identity: { pod: 'b', namespace: 'app' } });
  const { control } = await import('./testing/peers.ts');
  const tcp = await control(ip(27), CONTROL, 'POST', '/probe', { target: `${ip(28)}:${TCP}`, protocol: 'tcp', timeoutMs: 10_000, count: 2 });
  t.is(tcp.status, 200);
  const results = tcp.body as ProbeResult[];
  t.deepEqual(results.map((r) => [r.outcome, r.responder?.pod]), [['echoed', 'b'], ['echoed', 'b']]);
  for (const r of results) t.regex(r.localAddress ?? '', /^127\.0\.10\.27:\d+$/);
  const web = await control(ip(27), CONTROL, 'POST', '/probe', { target: `${ip(28)}:${HTTP}`, protocol: 'http', timeoutMs: 10_000 });
  const [h] = web.body as ProbeResult[];
  t.is(h.outcome, 'answered');
  t.is(h.responder?.remote, h.localAddress ?? 'missing');
});
