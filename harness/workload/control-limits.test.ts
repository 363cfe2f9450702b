/**
 * The control port is reachable by anything that reaches the pod and has no authentication:
 * what it refuses to do. Real sockets on loopback (127.0.13.x); no request leaves this machine
 * (every refused target is refused before a connection is opened).
 */
import avaTest from 'ava';
import { onLoopbackAliases } from '../testing/loopback.ts';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { checkTarget, forbiddenAddress, guardedLookup, runProbe, startAgent, type Agent, type TargetPolicy } from './agent.ts';
import { LIMITS, validateProbeRequest } from '../probe/contract.ts';
import { control, startPeer } from './testing/peers.ts';

const ip = (n: number): string => `127.0.13.${n}`;
// Where these addresses cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [ip(1)]);

/** An agent as it runs in a pod: no local targets. Its own address is loopback here, so that is refused too. */
async function podAgent(n: number, extra: Partial<Parameters<typeof startAgent>[0]> = {}): Promise<Agent> {
  return startAgent({ bind: ip(n), tcpPorts: [5701], httpPort: 8080, controlPort: 0, identity: { pod: `pod-${n}`, namespace: 'ns', ip: '10.244.1.5' }, ...extra });
}

async function refused(t: { is: (a: unknown, b: unknown, m?: string) => void; regex: (a: string, r: RegExp, m?: string) => void }, agent: Agent, body: Record<string, unknown>, why: RegExp): Promise<void> {
  const res = await control(agent.options.bind, agent.options.controlPort, 'POST', '/probe', body);
  t.is(res.status, 400, JSON.stringify(body));
  t.regex(String((res.body as { error?: string }).error), why, JSON.stringify(body));
}

test('loopback, link-local, this pod, Istio ports and control ports are refused as targets, also by inet_aton shorthand', async (t) => {
  await using agent = await podAgent(1);
  const probe = (target: string, extra: Record<string, unknown> = {}) => ({ target, protocol: 'tcp', timeoutMs: 200, ...extra });
  await refused(t, agent, probe('127.0.0.1:15000', { payload: 'POST /quitquitquit HTTP/1.1\r\nHost: x\r\n\r\n' }), /reserved|control endpoint/);
  await refused(t, agent, probe('127.0.0.1:8080'), /127\.0\.0\.1 is loopback/);
  await refused(t, agent, probe(`${ip(2)}:5701`), /is loopback/);
  await refused(t, agent, probe('[::1]:8080'), /::1 is loopback/);
  await refused(t, agent, probe('[::ffff:127.0.0.1]:8080'), /is loopback/);
  await refused(t, agent, probe('localhost:8080'), /localhost is loopback/);
  await refused(t, agent, probe('0x7f000001:8080'), /bad target/);
  await refused(t, agent, probe('127.1:8080'), /bad target/);
  await refused(t, agent, probe('2130706433:8080'), /bad target/);
  await refused(t, agent, probe('169.254.169.254:80', { protocol: 'http' }), /link-local/);
  await refused(t, agent, probe('[fe80::1]:80'), /link-local/);
  await refused(t, agent, probe('0.0.0.0:8080'), /this host/);
  await refused(t, agent, probe('10.244.1.5:8080'), /this pod's own address/);
  await refused(t, agent, probe('10.244.2.9:15020', { protocol: 'http' }), /port 15020 is reserved/);
  await refused(t, agent, probe('10.244.2.9:15999'), /port 15999 is reserved/);
  await refused(t, agent, probe(`10.244.2.9:${agent.options.controlPort}`), /reserved/);
});

test('a probe cannot drive another agent or a proxy: /probe and /quitquitquit requests are refused in payloads and paths', async (t) => {
  const request = (extra: Record<string, unknown>) => ({ target: '10.244.2.9:8080', protocol: 'tcp', timeoutMs: 200, ...extra });
  const inner = JSON.stringify({ target: '10.244.2.10:8080', protocol: 'tcp', timeoutMs: 100, count: 100 });
  for (const payload of [
    `POST /probe HTTP/1.1\r\nHost: a\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
    `GET /healthz HTTP/1.1\r\nHost: a\r\n\r\npost //probe HTTP/1.1\r\n\r\n`,
    'POST http://10.244.2.9:15999/probe HTTP/1.1\r\n\r\n',
    'POST /quitquitquit HTTP/1.1\r\n\r\n',
  ]) t.throws(() => validateProbeRequest(request({ payload })), { message: /control endpoint/ }, payload);
  for (const httpPath of ['/probe', '//probe?x', '/quitquitquit', '/drain_listeners']) {
    t.throws(() => validateProbeRequest(request({ protocol: 'http', httpPath })), { message: /is a control endpoint/ }, httpPath);
  }
  // Ordinary payloads and paths still pass.
  t.notThrows(() => validateProbeRequest(request({ payload: 'GET /probes-are-fine-as-data HTTP/1.1\r\n\r\n' })));
  t.notThrows(() => validateProbeRequest(request({ protocol: 'http', httpPath: '/api/probe-results' })));
});

test('probe-of-probe does not amplify: an agent allowed local targets still refuses another agent\'s control request', async (t) => {
  // Another agent's control API on an ephemeral port (not a reserved one): only the payload and
  // path checks stand between A and it. Every connection it gets is counted.
  let connections = 0;
  const other = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  other.listen(0, ip(4));
  await once(other, 'listening');
  t.teardown(() => { other.close(); });
  const otherPort = (other.address() as net.AddressInfo).port;
  await using a = await startAgent({ bind: ip(3), tcpPorts: [], controlPort: 0, identity: { pod: 'a', namespace: 'ns' }, allowLocalTargets: true });
  const inner = JSON.stringify({ target: `${ip(4)}:${otherPort}`, protocol: 'tcp', timeoutMs: 100, count: 100 });
  const viaTcp = await control(ip(3), a.options.controlPort, 'POST', '/probe', {
    target: `${ip(4)}:${otherPort}`, protocol: 'tcp', timeoutMs: 500,
    payload: `POST /probe HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
  });
  t.is(viaTcp.status, 400);
  t.regex(String((viaTcp.body as { error: string }).error), /control endpoint/);
  const viaHttp = await control(ip(3), a.options.controlPort, 'POST', '/probe', { target: `${ip(4)}:${otherPort}`, protocol: 'http', timeoutMs: 500, httpPath: '/probe', payload: inner });
  t.is(viaHttp.status, 400);
  // A probing its own control port is refused by port, whatever the payload.
  const self = await control(ip(3), a.options.controlPort, 'POST', '/probe', { target: `${ip(3)}:${a.options.controlPort}`, protocol: 'tcp', timeoutMs: 500 });
  t.is(self.status, 400);
  t.regex(String((self.body as { error: string }).error), /reserved/);
  t.is(connections, 0);
});

test('count × timeoutMs is capped, so one request cannot hold the agent for hours', (t) => {
  t.throws(() => validateProbeRequest({ target: '10.244.2.9:8080', protocol: 'tcp', timeoutMs: 120_000, count: 100 }), { message: /count × timeoutMs must be at most 300000 ms, got 100 × 120000/ });
  t.notThrows(() => validateProbeRequest({ target: '10.244.2.9:8080', protocol: 'tcp', timeoutMs: 11_000, count: 20 }));
});

test(`more than ${LIMITS.maxConcurrentProbes} probes at once: 429, and the agent keeps answering`, async (t) => {
  await using silent = await startPeer(ip(6), 5701, 'silent');
  await using agent = await startAgent({ bind: ip(5), tcpPorts: [], controlPort: 0, identity: { pod: 'p', namespace: 'ns' }, allowLocalTargets: true, shutdownGraceMs: 0 });
  const port = agent.options.controlPort;
  const held = Array.from({ length: LIMITS.maxConcurrentProbes }, () => control(ip(5), port, 'POST', '/probe', { target: `${ip(6)}:5701`, protocol: 'tcp', timeoutMs: 10_000 }).catch(() => null));
  await silent.accepted(LIMITS.maxConcurrentProbes);
  const extra = await control(ip(5), port, 'POST', '/probe', { target: `${ip(6)}:5701`, protocol: 'tcp', timeoutMs: 10_000 });
  t.is(extra.status, 429);
  t.is(extra.headers['retry-after'], '1');
  t.is((await control(ip(5), port, 'GET', '/healthz')).status, 200);
  await agent.close();
  await Promise.all(held);
});

test('a caller that disconnects aborts its probe: the probe socket closes at once, not after timeoutMs', async (t) => {
  const closed: Promise<unknown>[] = [];
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    // Read, so the FIN of an aborted probe is seen.
    socket.resume();
    closed.push(once(socket, 'close'));
  });
  server.listen(5701, ip(8));
  await once(server, 'listening');
  t.teardown(() => { server.close(); });
  await using agent = await startAgent({ bind: ip(7), tcpPorts: [], controlPort: 0, identity: { pod: 'p', namespace: 'ns' }, allowLocalTargets: true });
  const body = JSON.stringify({ target: `${ip(8)}:5701`, protocol: 'tcp', timeoutMs: 60_000 });
  const req = http.request({ host: ip(7), port: agent.options.controlPort, method: 'POST', path: '/probe', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
  req.on('error', () => {});
  req.end(body);
  await once(server, 'connection');
  req.destroy();
  // Without the abort this waits the full minute and the test times out.
  await closed[0];
  t.pass();
});

test('replies come back as sizes: no banner bytes in errors, no cookies in headers', async (t) => {
  await using peer = await startPeer(ip(9), 5701, 'garbage');
  const [tcp] = await runProbe({ target: `${ip(9)}:5701`, protocol: 'tcp', timeoutMs: 2000 });
  t.is(tcp.outcome, 'error');
  t.regex(tcp.error ?? '', /^unexpected reply to WHO: \d+ bytes/);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'session=s3cr3t', 'www-authenticate': 'Basic realm=x', 'x-request-id': 'abc' });
    res.end('admin password: hunter2');
  });
  server.listen(8080, ip(10));
  await once(server, 'listening');
  t.teardown(() => { server.close(); });
  const [r] = await runProbe({ target: `${ip(10)}:8080`, protocol: 'http', timeoutMs: 2000 });
  t.is(r.outcome, 'answered');
  t.is(r.httpHeaders?.['content-type'], 'text/plain');
  t.is(r.httpHeaders?.['x-request-id'], 'abc');
  t.is(r.httpHeaders?.['set-cookie'], undefined);
  t.is(r.httpHeaders?.['www-authenticate'], undefined);
  t.false(JSON.stringify(r).includes('hunter2'));
});

test('forbiddenAddress and checkTarget: the pure rules', (t) => {
  const policy: TargetPolicy = { allowLocal: false, ownAddresses: new Set(['10.244.1.5', 'fd00::5']), controlPort: 15999 };
  const local: TargetPolicy = { ...policy, allowLocal: true };
  t.regex(forbiddenAddress('127.0.0.6', policy) ?? '', /loopback/);
  t.is(forbiddenAddress('127.0.0.6', local), null);
  t.regex(forbiddenAddress('169.254.169.254', local) ?? '', /link-local/, 'link-local stays refused in a loopback bed');
  t.regex(forbiddenAddress('FD00::5', policy) ?? '', /own address/);
  t.regex(forbiddenAddress('::', policy) ?? '', /this host/);
  t.is(forbiddenAddress('10.244.2.9', policy), null);
  t.throws(() => checkTarget('127.0.0.1:15000', local), { message: /reserved/ });
  t.notThrows(() => checkTarget('app.app.svc.cluster.local:8080', policy));
});

test('a name is checked again after resolution: one that resolves to loopback is refused by the lookup itself', async (t) => {
  const policy: TargetPolicy = { allowLocal: false, ownAddresses: new Set(), controlPort: 15999 };
  // "localhost" stands for any public name pointing at 127.0.0.1; resolved from /etc/hosts, no network.
  const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    guardedLookup(policy)('localhost', { family: 4 }, (err) => resolve(err));
  });
  t.is(error?.code, 'EREFUSEDTARGET');
  t.regex(error?.message ?? '', /resolves to 127\.0\.0\.1, which is refused: 127\.0\.0\.1 is loopback/);
  const allowed = await new Promise<string>((resolve, reject) => {
    guardedLookup({ ...policy, allowLocal: true })('localhost', { family: 4 }, (err, address) => (err ? reject(err) : resolve(String(address))));
  });
  t.is(allowed, '127.0.0.1');
});

test('IPv4-mapped IPv6 in any spelling is judged as the IPv4 address', (t) => {
  const policy: TargetPolicy = { allowLocal: false, ownAddresses: new Set(['10.244.1.5']), controlPort: 15999 };
  for (const ip of ['::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:7f00:1', '0::0:1']) t.regex(forbiddenAddress(ip, policy) ?? '', /loopback/, ip);
  t.regex(forbiddenAddress('::ffff:a9fe:a9fe', policy) ?? '', /link-local/);
  t.regex(forbiddenAddress('::ffff:af4:105', policy) ?? '', /own address/);
});

test('an answer in identity shape carries back only the identity: long fields cut, headers limited', async (t) => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ pod: 'p'.repeat(5000), namespace: 'ns', ip: '10.0.0.1', port: 8080, protocol: 'http', headers: { 'x-forwarded-client-cert': 'By=spiffe://x', cookie: 'sid=s3cr3t', 'x-leak': 's3cr3t' } }));
  });
  server.listen(8080, ip(11));
  await once(server, 'listening');
  t.teardown(() => { server.close(); });
  const [r] = await runProbe({ target: `${ip(11)}:8080`, protocol: 'http', timeoutMs: 2000 });
  t.is(r.responder?.pod.length, 515);
  t.deepEqual(r.responder?.headers, { 'x-forwarded-client-cert': 'By=spiffe://x' });
  t.false(JSON.stringify(r).includes('s3cr3t'));
});
