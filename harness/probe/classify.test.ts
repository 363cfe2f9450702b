/** The pure classification: observed socket behaviour → outcome, reply bytes → verdict. No sockets. */
import test from 'ava';
import { classifyFailure, evaluateTcpReply, formatAddress, PROBE_OUTCOMES, toIdentity, WHO_LINE } from './contract.ts';
import type { AttemptEnd } from './contract.ts';

const err = (code: string): AttemptEnd => ({ kind: 'error', code, message: `connect ${code} 10.0.0.1:5701` });

test('the outcome vocabulary is exactly the issue\'s list', (t) => {
  t.deepEqual([...PROBE_OUTCOMES].sort(), ['answered', 'closed-after-connect', 'echoed', 'error', 'refused', 'reset', 'timeout', 'unreachable']);
});

// EHOSTUNREACH/ENETUNREACH/EADDRNOTAVAIL cannot be produced on loopback without sending traffic
// off the machine, so 'unreachable' is covered here, from the errno alone.
for (const code of ['EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']) {
  test(`${code} is unreachable, whatever the phase`, (t) => {
    for (const connected of [false, true]) {
      const r = classifyFailure({ connected, bytesReceived: 0, end: err(code), timeoutMs: 100 });
      t.is(r.outcome, 'unreachable');
      t.true(r.error.startsWith(`${code}:`));
    }
  });
}

test('ECONNREFUSED is refused', (t) => {
  t.is(classifyFailure({ connected: false, bytesReceived: 0, end: err('ECONNREFUSED'), timeoutMs: 100 }).outcome, 'refused');
});

test('FIN: before any byte closed-after-connect, after some bytes an error', (t) => {
  const fin: AttemptEnd = { kind: 'fin' };
  const early = classifyFailure({ connected: true, bytesReceived: 0, end: fin, timeoutMs: 100 });
  t.is(early.outcome, 'closed-after-connect');
  t.regex(early.error, /FIN/);
  const late = classifyFailure({ connected: true, bytesReceived: 12, end: fin, timeoutMs: 100 });
  t.is(late.outcome, 'error');
  t.regex(late.error, /after 12 bytes/);
});

test('RST: before any byte closed-after-connect (also at connect time), after data reset', (t) => {
  for (const code of ['ECONNRESET', 'EPIPE']) {
    t.is(classifyFailure({ connected: true, bytesReceived: 0, end: err(code), timeoutMs: 100 }).outcome, 'closed-after-connect');
    t.is(classifyFailure({ connected: true, bytesReceived: 5, end: err(code), timeoutMs: 100 }).outcome, 'reset');
  }
  const atConnect = classifyFailure({ connected: false, bytesReceived: 0, end: err('ECONNRESET'), timeoutMs: 100 });
  t.is(atConnect.outcome, 'closed-after-connect');
  t.regex(atConnect.error, /right after the handshake/);
});

test('timeouts say which phase they were in', (t) => {
  const timeout: AttemptEnd = { kind: 'timeout' };
  t.regex(classifyFailure({ connected: false, bytesReceived: 0, end: timeout, timeoutMs: 250 }).error, /^connect timeout: .*250 ms/);
  t.regex(classifyFailure({ connected: true, bytesReceived: 0, end: timeout, timeoutMs: 250 }).error, /^first-byte timeout/);
  t.regex(classifyFailure({ connected: true, bytesReceived: 3, end: timeout, timeoutMs: 250 }).error, /^reply timeout/);
  const kernel = classifyFailure({ connected: false, bytesReceived: 0, end: err('ETIMEDOUT'), timeoutMs: 250 });
  t.is(kernel.outcome, 'timeout');
  t.regex(kernel.error, /kernel connect timeout/);
});

test('anything else is error, with the code kept', (t) => {
  for (const code of ['ENOTFOUND', 'EAI_AGAIN', 'HPE_INVALID_CONSTANT', 'EMFILE']) {
    const r = classifyFailure({ connected: false, bytesReceived: 0, end: err(code), timeoutMs: 100 });
    t.is(r.outcome, 'error');
    t.true(r.error.startsWith(code));
  }
  t.regex(classifyFailure({ connected: true, bytesReceived: 0, end: { kind: 'error', code: undefined, message: 'odd' }, timeoutMs: 1 }).error, /^UNKNOWN: odd/);
});

const who = Buffer.from(WHO_LINE);
const identityLine = '{"pod":"app-0","namespace":"app","ip":"10.244.1.5","port":5701,"protocol":"tcp"}\n';

test('WHO reply: an identity line is echoed with the responder, split across chunks too', (t) => {
  t.deepEqual(evaluateTcpReply(who, Buffer.from(identityLine.slice(0, 20)), false), { state: 'incomplete' });
  t.deepEqual(evaluateTcpReply(who, Buffer.from(identityLine), false), {
    state: 'echoed',
    responder: { pod: 'app-0', namespace: 'app', ip: '10.244.1.5', port: 5701, protocol: 'tcp' },
  });
});

test('WHO reply: a plain echo of WHO is echoed without responder, CRLF tolerated', (t) => {
  t.deepEqual(evaluateTcpReply(who, Buffer.from('WHO\n'), false), { state: 'echoed' });
  t.deepEqual(evaluateTcpReply(who, Buffer.from('WHO\r\n'), false), { state: 'echoed' });
});

test('WHO reply: something else is a mismatch; on FIN a newline-less identity still counts', (t) => {
  const v = evaluateTcpReply(who, Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), false);
  t.is(v.state, 'mismatch');
  // Sizes only: the bytes of a reply (a banner, a password prompt) never travel back.
  t.is(v.state === 'mismatch' ? v.error : '', 'unexpected reply to WHO: 28 bytes, neither WHO nor an identity line');
  t.is(evaluateTcpReply(who, Buffer.from(identityLine.trim()), true).state, 'echoed');
  t.is(evaluateTcpReply(who, Buffer.from('{"pod":"x"}\n'), false).state, 'mismatch');
});

test('payload echo: intact, partial, wrong, short at FIN', (t) => {
  const sent = Buffer.from('hello world');
  t.deepEqual(evaluateTcpReply(sent, Buffer.from('hello'), false), { state: 'incomplete' });
  t.deepEqual(evaluateTcpReply(sent, Buffer.from('hello world'), false), { state: 'echoed' });
  t.is(evaluateTcpReply(sent, Buffer.from('help'), false).state, 'mismatch');
  const short = evaluateTcpReply(sent, Buffer.from('hello'), true);
  t.is(short.state, 'mismatch');
  t.regex(short.state === 'mismatch' ? short.error : '', /5 of 11 bytes/);
});

test('toIdentity accepts the documented shapes and rejects near misses', (t) => {
  const http = { pod: 'p', namespace: 'n', ip: '10.0.0.1', port: 8080, protocol: 'http', host: 'h', remote: '10.0.0.2:4000', headers: { a: 'b' } };
  t.deepEqual(toIdentity(http), http);
  t.is(toIdentity({ ...http, port: '8080' }), null);
  t.is(toIdentity({ ...http, protocol: 'udp' }), null);
  t.is(toIdentity({ pod: 'p', namespace: 'n', port: 1, protocol: 'tcp' }), null);
  t.is(toIdentity(null), null);
  t.is(toIdentity(['p']), null);
  t.is(toIdentity({ ...http, headers: { a: 1 } })?.headers, undefined, 'non-string headers are dropped, not trusted');
});

test('formatAddress brackets IPv6 the way Envoy prints it', (t) => {
  t.is(formatAddress('10.0.0.1', 5701), '10.0.0.1:5701');
  t.is(formatAddress('fd00::1', 5701), '[fd00::1]:5701');
  t.is(formatAddress(undefined, 5701), null);
  t.is(formatAddress('::ffff:10.0.0.1', 80), '10.0.0.1:80', 'IPv4 seen through a dual-stack socket');
});
