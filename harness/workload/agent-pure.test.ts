/** The agent's pure parts: the WHO line filter of the TCP listener, flag/env parsing, log batching. */
import test from 'ava';
import fc from 'fast-check';
import { AgentUsageError, batchedLines, parseAgentArgs, WhoFilter } from './agent.ts';

const ID = '{"id":1}\n';
const feed = (chunks: string[]): string => {
  const f = new WhoFilter(() => ID);
  return chunks.map((c) => f.push(Buffer.from(c, 'latin1')).toString('latin1')).join('') + f.flush().toString('latin1');
};

test('WHO at a line start is answered, anything else is echoed byte for byte', (t) => {
  t.is(feed(['WHO\n']), ID);
  t.is(feed(['WHO\r\n']), ID, 'nc -C sends CRLF');
  t.is(feed(['hello\n']), 'hello\n');
  t.is(feed(['WHOM\n']), 'WHOM\n');
  t.is(feed(['xWHO\n']), 'xWHO\n', 'not at a line start');
  t.is(feed(['a\nWHO\nb\n']), `a\n${ID}b\n`);
  t.is(feed(['WHO\nWHO\n']), ID + ID);
  t.is(feed(['WH']), 'WH', 'a held prefix is flushed when the peer half-closes');
});

test('WHO split across chunks is still recognised; other bytes are not delayed', (t) => {
  t.is(feed(['W', 'H', 'O', '\n']), ID);
  t.is(feed(['ab', 'c\nW', 'HO\r', '\nz']), `abc\n${ID}z`);
  const f = new WhoFilter(() => ID);
  t.is(f.push(Buffer.from('data without newline')).toString(), 'data without newline', 'echoed at once');
  t.is(f.push(Buffer.from('WHO\n')).toString(), 'WHO\n', 'mid-line WHO is data');
});

test('property: without WHO lines the filter is the identity, however the bytes are chunked', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat({ max: 300 }), { maxLength: 6 }), (bytes, cuts) => {
      const text = Buffer.from(bytes).toString('latin1');
      fc.pre(!/(^|\n)WHO\r?\n/.test(text));
      const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
      const chunks: string[] = [];
      let from = 0;
      for (const p of points) {
        chunks.push(text.slice(from, p));
        from = p;
      }
      chunks.push(text.slice(from));
      return feed(chunks) === text;
    }),
    { numRuns: 1000 },
  );
  t.pass();
});

test('defaults: no TCP listener, control 15999, bind 0.0.0.0, identity from hostname', (t) => {
  t.deepEqual(parseAgentArgs([], {}, 'host-1'), {
    help: false,
    options: { bind: '0.0.0.0', tcpPorts: [], controlPort: 15999, identity: { pod: 'host-1', namespace: 'default' } },
  });
});

test('flags: repeatable --tcp-port, http, control, bind', (t) => {
  const r = parseAgentArgs(['--tcp-port', '5701', '--tcp-port=5702', '--http-port', '8080', '--control-port', '16000', '--bind', '127.0.10.1'], {}, 'h');
  t.deepEqual(r, { help: false, options: { bind: '127.0.10.1', tcpPorts: [5701, 5702], httpPort: 8080, controlPort: 16000, identity: { pod: 'h', namespace: 'default' } } });
});

test('env sets everything, flags win over env', (t) => {
  const env = { TCP_PORTS: '5701, 5702', HTTP_PORT: '8080', CONTROL_PORT: '15000', BIND_ADDRESS: '::', POD_NAME: 'manager-abc', POD_NAMESPACE: 'manager', POD_IP: '10.244.0.9' };
  t.deepEqual(parseAgentArgs([], env, 'h'), {
    help: false,
    options: { bind: '::', tcpPorts: [5701, 5702], httpPort: 8080, controlPort: 15000, identity: { pod: 'manager-abc', namespace: 'manager', ip: '10.244.0.9' } },
  });
  const r = parseAgentArgs(['--tcp-port', '6000', '--control-port', '16000'], env, 'h');
  t.true(!r.help && r.options.tcpPorts.join() === '6000' && r.options.controlPort === 16000);
  t.deepEqual(parseAgentArgs([], { TCP_PORTS: '', HTTP_PORT: ' ' }, 'h'), parseAgentArgs([], {}, 'h'), 'empty env values mean unset');
});

test('--probe-source / PROBE_SOURCE', (t) => {
  const r = parseAgentArgs(['--bind', '127.0.10.1', '--probe-source', 'kernel'], {}, 'h');
  t.is(r.help ? null : r.options.probeSource, 'kernel');
  const e = parseAgentArgs(['--bind', '127.0.10.1'], { PROBE_SOURCE: 'bind' }, 'h');
  t.is(e.help ? null : e.options.probeSource, 'bind');
  const d = parseAgentArgs([], {}, 'h');
  t.is(d.help ? null : d.options.probeSource, undefined, 'left to startAgent, which picks by the bind address');
  t.throws(() => parseAgentArgs(['--probe-source', 'bind'], {}, 'h'), { instanceOf: AgentUsageError, message: /needs a specific --bind/ });
  t.throws(() => parseAgentArgs(['--bind', '127.0.10.1', '--probe-source', 'auto'], {}, 'h'), { instanceOf: AgentUsageError, message: /"bind" or "kernel"/ });
});

test('--help and -h', (t) => {
  t.deepEqual(parseAgentArgs(['--help'], {}, 'h'), { help: true });
  t.deepEqual(parseAgentArgs(['-h', '--tcp-port', '1'], {}, 'h'), { help: true });
});

test('bad input throws AgentUsageError with the offending value', (t) => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [['--what'], {}, /Unknown option '--what'/],
    [['positional'], {}, /positional/i],
    [['--tcp-port', '70000'], {}, /--tcp-port must be a port number 1-65535, got "70000"/],
    [['--tcp-port', '0'], {}, /--tcp-port/],
    [['--http-port', '8x'], {}, /--http-port/],
    [[], { CONTROL_PORT: '-1' }, /CONTROL_PORT/],
    [[], { TCP_PORTS: '5701,,5702' }, /TCP_PORTS entry/],
    [['--bind', 'localhost'], {}, /--bind must be an IP address/],
    [['--tcp-port', '15999'], {}, /port 15999 is given twice/],
    [['--tcp-port'], {}, /argument missing|requires|expects/i],
  ];
  for (const [argv, env, message] of cases) {
    t.throws(() => parseAgentArgs(argv, env, 'h'), { instanceOf: AgentUsageError, message }, argv.join(' ') || JSON.stringify(env));
  }
});

test('log lines: batched into one write, in order, each {"time",...entry}; flush writes the rest at once', async (t) => {
  const writes: string[] = [];
  let wrote = (): void => {};
  const firstWrite = new Promise<void>((resolve) => (wrote = resolve));
  const { print, flush } = batchedLines((text) => {
    writes.push(text);
    wrote();
  }, 30);
  const before = Date.now();
  print({ event: 'started', bind: '127.0.0.1' });
  print({ event: 'probe', outcome: 'echoed', localAddress: '127.0.0.1:40000' });
  const after = Date.now();
  t.deepEqual(writes, [], 'nothing is written on the probe path');
  // Wait for the timer's write itself: a fixed delay would race the timer on a loaded machine.
  // The batch timer is unref'd (it must not keep a pod's process alive), so hold the loop open.
  const keepAlive = setInterval(() => {}, 1000);
  await firstWrite;
  clearInterval(keepAlive);
  t.is(writes.length, 1, 'one write per batch');
  const lines = writes[0].split('\n');
  t.is(lines.pop(), '', 'every line ends with a newline');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.deepEqual(parsed.map((p) => Object.keys(p)[0]), ['time', 'time']);
  t.deepEqual(parsed.map(({ time: _time, ...rest }) => rest), [{ event: 'started', bind: '127.0.0.1' }, { event: 'probe', outcome: 'echoed', localAddress: '127.0.0.1:40000' }]);
  // time is when print was called, not when the batch was written
  for (const p of parsed) {
    const time = Date.parse(String(p.time));
    t.true(time >= before && time <= after, `${p.time} is between ${new Date(before).toISOString()} and ${new Date(after).toISOString()}`);
  }

  print({ event: 'stopping', signal: 'SIGTERM' });
  flush();
  t.is(writes.length, 2);
  t.is((JSON.parse(writes[1]) as Record<string, unknown>).signal, 'SIGTERM');
  flush();
  await new Promise((r) => setTimeout(r, 50));
  t.is(writes.length, 2, 'an empty flush and the cancelled timer write nothing');
});

test('log lines: a full batch is written without waiting for the timer', (t) => {
  const writes: string[] = [];
  const { print } = batchedLines((text) => writes.push(text), 60_000);
  for (let i = 0; i < 300; i++) print({ event: 'probe', i });
  t.is(writes.length, 1);
  const first = writes[0].trim().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
  t.deepEqual(first, Array.from({ length: first.length }, (_, i) => i));
  t.true(first.length >= 100 && first.length < 300, `batch of ${first.length}`);
});
