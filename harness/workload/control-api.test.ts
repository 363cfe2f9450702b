/** The agent's control API and workload listeners over real HTTP on loopback (127.0.11.x). */
import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import http from 'node:http';
import net from 'node:net';
import { startAgent } from './agent.ts';
import type { Agent } from './agent.ts';
import type { ProbeResult } from '../probe/contract.ts';
import { control, startPeer } from './testing/peers.ts';

const ip = (n: number): string => `127.0.11.${n}`;
// Where these addresses cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [ip(1)]);
const CONTROL = 15999;

async function agentAt(n: number, extra: Partial<Parameters<typeof startAgent>[0]> = {}): Promise<Agent> {
  // Every address here is loopback: the test bed says so, as the runner's loopback mesh does.
  return startAgent({ bind: ip(n), tcpPorts: [5701], httpPort: 8080, controlPort: CONTROL, identity: { pod: `pod-${n}`, namespace: 'ns' }, allowLocalTargets: true, ...extra });
}

test('GET /healthz answers {"ok":true} on the control and HTTP ports', async (t) => {
  await using agent = await agentAt(1);
  const c = await control(ip(1), CONTROL, 'GET', '/healthz');
  t.is(c.status, 200);
  t.deepEqual(c.body, { ok: true });
  const h = await control(ip(1), 8080, 'GET', '/healthz');
  t.is(h.status, 200);
});

const bad: Array<[string, unknown, RegExp]> = [
  ['malformed JSON', '{"target": ', /malformed JSON/],
  ['not an object', '[1,2]', /JSON object/],
  ['missing target', { protocol: 'tcp', timeoutMs: 100 }, /target is required/],
  ['target without port', { target: '127.0.11.9', protocol: 'tcp', timeoutMs: 100 }, /bad target/],
  ['target with a bad host', { target: 'bad host!:5701', protocol: 'tcp', timeoutMs: 100 }, /bad target/],
  ['port 0', { target: '127.0.11.9:0', protocol: 'tcp', timeoutMs: 100 }, /port must be 1-65535/],
  ['port 65536', { target: '127.0.11.9:65536', protocol: 'tcp', timeoutMs: 100 }, /port must be 1-65535/],
  ['unknown protocol', { target: '127.0.11.9:5701', protocol: 'udp', timeoutMs: 100 }, /protocol must be/],
  ['timeout 0', { target: '127.0.11.9:5701', protocol: 'tcp', timeoutMs: 0 }, /timeoutMs must be an integer from 1 to 120000/],
  ['timeout too long', { target: '127.0.11.9:5701', protocol: 'tcp', timeoutMs: 120_001 }, /timeoutMs/],
  ['timeout not a number', { target: '127.0.11.9:5701', protocol: 'tcp', timeoutMs: '100' }, /timeoutMs/],
  ['count 101', { target: '127.0.11.9:5701', protocol: 'tcp', timeoutMs: 100, count: 101 }, /count must be an integer from 1 to 100/],
  ['count 0', { target: '127.0.11.9:5701', protocol: 'tcp', timeoutMs: 100, count: 0 }, /count/],
  ['httpPath on tcp', { target: '127.0.11.9:5701', protocol: 'tcp', timeoutMs: 100, httpPath: '/' }, /only valid with protocol "http"/],
  ['unknown field', { target: '127.0.11.9:5701', protocol: 'tcp', timeoutMs: 100, timeout: 5 }, /unknown field "timeout"/],
];

test('bad probe requests get 400 with {"error"} and the agent keeps serving', async (t) => {
  await using agent = await agentAt(2);
  for (const [name, body, message] of bad) {
    const res = await control(ip(2), CONTROL, 'POST', '/probe', body);
    t.is(res.status, 400, name);
    t.is(res.headers['content-type'], 'application/json', name);
    const error = (res.body as { error?: unknown }).error;
    t.is(typeof error, 'string', name);
    t.regex(String(error), message, name);
  }
  t.is((await control(ip(2), CONTROL, 'GET', '/healthz')).status, 200);
});

test('an oversized body gets 400, and so does a huge declared length', async (t) => {
  await using agent = await agentAt(3);
  const big = JSON.stringify({ target: `${ip(3)}:5701`, protocol: 'tcp', timeoutMs: 100, payload: 'x'.repeat(70 * 1024) });
  const res = await control(ip(3), CONTROL, 'POST', '/probe', big);
  t.is(res.status, 400);
  t.regex((res.body as { error: string }).error, /larger than 65536 bytes/);
  const declared = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: ip(3), port: CONTROL, method: 'POST', path: '/probe', agent: false, headers: { 'content-length': String(64 * 1024 * 1024) } }, (r) => {
      r.resume();
      resolve(r.statusCode ?? 0);
    });
    req.on('error', reject);
    req.write('{');
  });
  t.is(declared, 400);
  t.is((await control(ip(3), CONTROL, 'GET', '/healthz')).status, 200);
});

test('a payload over 16 KiB in a small enough body is refused by validation', async (t) => {
  await using agent = await agentAt(4);
  const res = await control(ip(4), CONTROL, 'POST', '/probe', { target: `${ip(4)}:5701`, protocol: 'tcp', timeoutMs: 100, payload: 'y'.repeat(16 * 1024 + 1) });
  t.is(res.status, 400);
  t.regex((res.body as { error: string }).error, /payload is larger/);
});

test('unknown endpoints are 404 and wrong methods 405, both with {"error"}', async (t) => {
  await using agent = await agentAt(5);
  const missing = await control(ip(5), CONTROL, 'GET', '/nope');
  t.is(missing.status, 404);
  t.regex((missing.body as { error: string }).error, /no such endpoint/);
  const wrong = await control(ip(5), CONTROL, 'GET', '/probe');
  t.is(wrong.status, 405);
  t.is(wrong.headers.allow, 'POST');
});

test('garbage on the control port is answered by the HTTP layer, not a crash', async (t) => {
  await using agent = await agentAt(6);
  const reply = await new Promise<string>((resolve, reject) => {
    const s = net.connect({ host: ip(6), port: CONTROL }, () => s.write('\x00\x01 not http at all\r\n\r\n'));
    let text = '';
    s.on('data', (c) => { text += c.toString('latin1'); });
    s.on('close', () => resolve(text));
    s.on('error', reject);
  });
  t.regex(reply, /^HTTP\/1\.1 400/);
  t.is((await control(ip(6), CONTROL, 'GET', '/healthz')).status, 200);
});

test('one JSON log entry per probe attempt', async (t) => {
  const entries: Array<Record<string, unknown>> = [];
  await using agent = await agentAt(7, { log: (e) => entries.push(e) });
  const res = await control(ip(7), CONTROL, 'POST', '/probe', { target: `${ip(7)}:5701`, protocol: 'tcp', timeoutMs: 10_000, count: 3 });
  t.is(res.status, 200);
  const probes = entries.filter((e) => e.event === 'probe');
  t.is(probes.length, 3);
  t.deepEqual(probes.map((e) => e.localAddress), (res.body as ProbeResult[]).map((r) => r.localAddress));
  t.deepEqual(entries[0], { event: 'started', bind: ip(7), probeSource: 'bind', tcpPorts: [5701], httpPort: 8080, controlPort: CONTROL, identity: { pod: 'pod-7', namespace: 'ns' }, allowLocalTargets: true });
});

test('close(): stops accepting, lets an in-flight probe finish', async (t) => {
  await using silent = await startPeer(ip(9), 5701, 'silent');
  const agent = await agentAt(8);
  const pending = control(ip(8), CONTROL, 'POST', '/probe', { target: `${ip(9)}:5701`, protocol: 'tcp', timeoutMs: 300 });
  await silent.accepted(1);
  const closed = agent.close();
  await new Promise((r) => setTimeout(r, 20));
  await t.throwsAsync(control(ip(8), CONTROL, 'GET', '/healthz'), { code: 'ECONNREFUSED' });
  const res = await pending;
  t.is(res.status, 200);
  t.is((res.body as ProbeResult[])[0].outcome, 'timeout');
  await closed;
});

test('close(): a probe outlasting the grace period is aborted and answered 503', async (t) => {
  await using silent = await startPeer(ip(11), 5701, 'silent');
  const agent = await agentAt(10, { shutdownGraceMs: 100 });
  const pending = control(ip(10), CONTROL, 'POST', '/probe', { target: `${ip(11)}:5701`, protocol: 'tcp', timeoutMs: 60_000 });
  await silent.accepted(1);
  await agent.close();
  const res = await pending;
  t.is(res.status, 503);
  t.regex((res.body as { error: string }).error, /shutting down/);
});

test('port 0 binds ephemeral ports and options report the real ones', async (t) => {
  await using agent = await startAgent({ bind: ip(12), tcpPorts: [0, 0], httpPort: 0, controlPort: 0, identity: { pod: 'p', namespace: 'n' }, allowLocalTargets: true });
  const { tcpPorts, httpPort, controlPort } = agent.options;
  t.is(tcpPorts.length, 2);
  for (const port of [...tcpPorts, httpPort ?? 0, controlPort]) t.true(port > 0);
  const res = await control(ip(12), controlPort, 'POST', '/probe', { target: `${ip(12)}:${tcpPorts[1]}`, protocol: 'tcp', timeoutMs: 10_000 });
  t.is((res.body as ProbeResult[])[0].responder?.port, tcpPorts[1], 'the identity names the port that answered');
});

test('startAgent rejects when a port is taken, and leaves nothing listening', async (t) => {
  await using first = await agentAt(13);
  await t.throwsAsync(startAgent({ bind: ip(13), tcpPorts: [5702], controlPort: CONTROL, identity: { pod: 'p', namespace: 'n' } }), { code: 'EADDRINUSE' });
  // 5702 was bound before the control port failed; it must have been closed again.
  await t.throwsAsync(control(ip(13), 5702, 'GET', '/'), { code: 'ECONNREFUSED' });
});

test('a TCP peer that sends without reading is throttled, not buffered without bound', async (t) => {
  await using agent = await agentAt(14);
  const socket = net.connect({ host: ip(14), port: 5701 });
  t.teardown(() => socket.destroy());
  await new Promise((r) => socket.once('connect', r));
  socket.pause(); // never read the echo
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  const limit = 128 * 1024 * 1024;
  let written = 0;
  let stalled = false;
  // Keep writing while the agent keeps reading; kernel buffers hold a few MB, then it must stall.
  while (written < limit && !stalled) {
    written += chunk.length;
    if (!socket.write(chunk)) {
      stalled = !(await Promise.race([new Promise((r) => socket.once('drain', () => r(true))), new Promise((r) => setTimeout(() => r(false), 500))]));
    }
  }
  t.true(stalled, `the agent read ${written} bytes it could not echo`);
  t.is((await control(ip(14), CONTROL, 'GET', '/healthz')).status, 200);
});

test('probeSource: bind leaves from the agent address, kernel lets connect() choose', async (t) => {
  await using peer = await startPeer(ip(16), 5701, 'echo');
  await using bound = await agentAt(15);
  await using kernel = await agentAt(17, { probeSource: 'kernel' });
  const probe = { target: `${ip(16)}:5701`, protocol: 'tcp', timeoutMs: 10_000 };
  const [b] = (await control(ip(15), CONTROL, 'POST', '/probe', probe)).body as ProbeResult[];
  const [k] = (await control(ip(17), CONTROL, 'POST', '/probe', probe)).body as ProbeResult[];
  t.regex(b.localAddress ?? '', /^127\.0\.11\.15:\d+$/);
  // On loopback the kernel's source for 127.0.11.16 is lo's primary address, not the agent's.
  t.notRegex(k.localAddress ?? '', /^127\.0\.11\.17:/);
  t.deepEqual(peer.remotes, [b.localAddress, k.localAddress]);
  await t.throwsAsync(startAgent({ bind: '0.0.0.0', tcpPorts: [], controlPort: 0, probeSource: 'bind', identity: { pod: 'p', namespace: 'n' } }), { message: /needs a specific bind address/ });
});
