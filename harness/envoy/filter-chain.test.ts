import test from 'ava';
import { selectByFilterChainMatch } from './filter-chain.ts';
import { parseIp, type Ip } from './ip.ts';
import { filterChain } from './model.ts';
import { chain, type ChainBuilder } from './testing/builders.ts';
import type { Connection } from './connection.ts';

function ip(text: string): Ip {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(text);
  return parsed;
}

function conn(dst: string, port: number, extra: Partial<Connection> = {}): Connection {
  return { dst: ip(dst), port, src: null, srcPort: null, serverName: '', transportProtocol: 'raw_buffer', applicationProtocols: [], ...extra };
}

function chains(...builders: ChainBuilder[]) {
  return builders.map((b, i) => filterChain(b.build(), i));
}

test('exact destination port beats a chain without port, even when the latter is more specific on IP', (t) => {
  const list = chains(chain().destinationPrefix('10.0.0.1', 32).tcpProxy('a'), chain().destinationPort(80).tcpProxy('b'));
  t.is(selectByFilterChainMatch(list, null, conn('10.0.0.1', 80)).chain?.index, 1);
  t.is(selectByFilterChainMatch(list, null, conn('10.0.0.1', 81)).chain?.index, 0);
});

test('no backtracking: once the port stage picks the exact-port group, a later stage failure rejects', (t) => {
  // Chain 0 matches port 80 only for TLS; chain 1 would take any port. Envoy does not fall back to chain 1.
  const list = chains(chain().destinationPort(80).transport('tls').tcpProxy('a'), chain().tcpProxy('b'));
  const d = selectByFilterChainMatch(list, null, conn('10.0.0.1', 80));
  t.is(d.chain, null);
  t.is(d.reason, 'no chain matches transport raw_buffer');
});

test('longest destination prefix wins; chains without prefixes are the 0/0 fallback', (t) => {
  const list = chains(chain().destinationPrefix('10.0.0.0', 8).tcpProxy('a'), chain().destinationPrefix('10.1.0.0', 16).tcpProxy('b'), chain().tcpProxy('c'));
  t.is(selectByFilterChainMatch(list, null, conn('10.1.2.3', 1)).chain?.index, 1);
  t.is(selectByFilterChainMatch(list, null, conn('10.2.2.3', 1)).chain?.index, 0);
  t.is(selectByFilterChainMatch(list, null, conn('192.168.0.1', 1)).chain?.index, 2);
  const d = selectByFilterChainMatch(list, null, conn('10.1.2.3', 1));
  t.false(d.exactDestination);
  t.true(selectByFilterChainMatch(chains(chain().destinationPrefix('10.1.2.3', 32).tcpProxy('x')), null, conn('10.1.2.3', 1)).exactDestination);
});

test('server names: exact, then the longest wildcard, then chains without server names', (t) => {
  const list = chains(chain().serverNames('*.example.com').tcpProxy('a'), chain().serverNames('*.b.example.com').tcpProxy('b'), chain().serverNames('x.b.example.com').tcpProxy('c'), chain().tcpProxy('d'));
  const pick = (sni: string) => selectByFilterChainMatch(list, null, conn('1.1.1.1', 443, { serverName: sni, transportProtocol: 'tls' })).chain?.index;
  t.is(pick('x.b.example.com'), 2);
  t.is(pick('y.b.example.com'), 1);
  t.is(pick('z.example.com'), 0);
  t.is(pick('other.org'), 3);
  t.is(pick(''), 3);
});

test('transport protocol and ALPN: exact value first, empty as fallback, ALPN in the client order', (t) => {
  const list = chains(chain().transport('tls').alpn('istio-peer-exchange', 'istio').tcpProxy('mtls'), chain().transport('tls').tcpProxy('tls'), chain().transport('raw_buffer').tcpProxy('plain'));
  const pick = (c: Partial<Connection>) => selectByFilterChainMatch(list, null, conn('1.1.1.1', 1, c)).chain?.index;
  t.is(pick({ transportProtocol: 'tls', applicationProtocols: ['istio', 'h2'] }), 0);
  t.is(pick({ transportProtocol: 'tls', applicationProtocols: ['h2'] }), 1);
  t.is(pick({ transportProtocol: 'raw_buffer' }), 2);
});

test('source criteria without a known source are skipped to the fallback and reported', (t) => {
  const list = chains(chain().sourcePrefix('10.0.0.0', 8).tcpProxy('a'), chain().tcpProxy('b'));
  const unknownSource = selectByFilterChainMatch(list, null, conn('1.1.1.1', 1));
  t.is(unknownSource.chain?.index, 1);
  t.is(unknownSource.uncertain.length, 1);
  const known = selectByFilterChainMatch(list, null, conn('1.1.1.1', 1, { src: ip('10.9.9.9') }));
  t.is(known.chain?.index, 0);
  t.deepEqual(known.uncertain, []);
});

test('no chain and a default_filter_chain: the default is used and says why', (t) => {
  const list = chains(chain().destinationPort(80).tcpProxy('a'));
  const fallback = filterChain(chain().tcpProxy('d').build(), -1);
  const d = selectByFilterChainMatch(list, fallback, conn('1.1.1.1', 81));
  t.is(d.chain?.index, -1);
  t.regex(d.reason, /^default_filter_chain: no chain matches destination port 81$/);
});

test('property: the chosen chain does not depend on the order of filter_chains (Envoy rejects duplicate matches)', async (t) => {
  const fc = await import('fast-check');
  const ports = [null, 80, 81] as const;
  const prefixes = [null, ['10.0.0.0', 8], ['10.1.0.0', 16], ['10.1.2.3', 32]] as const;
  const transports = ['', 'tls', 'raw_buffer'] as const;
  const spec = fc.record({ port: fc.constantFrom(...ports), prefix: fc.constantFrom(...prefixes), transport: fc.constantFrom(...transports) });
  fc.assert(
    fc.property(fc.uniqueArray(spec, { minLength: 1, maxLength: 12, selector: (s) => JSON.stringify(s) }), fc.constantFrom('10.1.2.3', '10.1.9.9', '10.7.0.1', '192.168.0.1'), fc.constantFrom(80, 81, 82), fc.constantFrom('tls', 'raw_buffer'), (specs, dst, port, transport) => {
      const build = (order: typeof specs) =>
        chains(
          ...order.map((s) => {
            const b = chain().name(JSON.stringify(s));
            if (s.port !== null) b.destinationPort(s.port);
            if (s.prefix !== null) b.destinationPrefix(s.prefix[0], s.prefix[1]);
            if (s.transport) b.transport(s.transport);
            return b.tcpProxy('x');
          }),
        );
      const c = conn(dst, port, { transportProtocol: transport });
      const forward = selectByFilterChainMatch(build(specs), null, c).chain?.name ?? null;
      const backward = selectByFilterChainMatch(build([...specs].reverse()), null, c).chain?.name ?? null;
      return forward === backward;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('source type: SAME_IP_OR_LOOPBACK and EXTERNAL are not interchangeable; ANY is the fallback', (t) => {
  const both = chains(chain().name('local').sourceType('SAME_IP_OR_LOOPBACK').tcpProxy('local'), chain().name('external').sourceType('EXTERNAL').tcpProxy('external'), chain().name('any').tcpProxy('any'));
  const pick = (list: ReturnType<typeof chains>, src: string, dst = '10.0.0.1') => selectByFilterChainMatch(list, null, conn(dst, 80, { src: ip(src) })).chain?.name;
  t.is(pick(both, '127.0.0.1'), 'local', 'loopback');
  t.is(pick(both, '127.10.20.30'), 'local', 'all of 127/8 is loopback');
  t.is(pick(both, '10.0.0.1'), 'local', 'the same IP as the destination');
  t.is(pick(both, '10.0.0.2'), 'external');
  t.is(pick(both, '128.0.0.1'), 'external', 'just past 127/8');
  t.is(pick(both, '::1', 'fd00::1'), 'local', 'IPv6 loopback');
  t.is(pick(both, 'fd00::2', 'fd00::1'), 'external');
  const externalOnly = chains(chain().name('external').sourceType('EXTERNAL').tcpProxy('external'), chain().name('any').tcpProxy('any'));
  t.is(pick(externalOnly, '127.0.0.1'), 'any', 'a local source never takes the EXTERNAL chain');
  t.is(pick(externalOnly, '10.9.9.9'), 'external');
  const localOnly = chains(chain().name('local').sourceType('SAME_IP_OR_LOOPBACK').tcpProxy('local'));
  const rejected = selectByFilterChainMatch(localOnly, null, conn('10.0.0.1', 80, { src: ip('10.9.9.9') }));
  t.is(rejected.chain, null, 'an external source never takes the SAME_IP_OR_LOOPBACK chain');
  t.is(rejected.reason, 'no chain matches source type EXTERNAL');
  const unknown = selectByFilterChainMatch(both, null, conn('10.0.0.1', 80));
  t.is(unknown.chain?.name, 'any', 'without a source, only the ANY chain is certain');
  t.deepEqual(unknown.uncertain, ['source address (a chain matches on source_type; give --src)']);
});

test('a chain with several destination ranges scores by its longest range that contains the address', (t) => {
  const list = chains(chain().name('wide-and-narrow').destinationPrefix('10.0.0.0', 8).destinationPrefix('10.1.2.0', 24).tcpProxy('a'), chain().name('middle').destinationPrefix('10.1.0.0', 16).tcpProxy('b'));
  t.is(selectByFilterChainMatch(list, null, conn('10.1.2.3', 1)).chain?.name, 'wide-and-narrow', '/24 beats /16');
  t.is(selectByFilterChainMatch(list, null, conn('10.1.9.9', 1)).chain?.name, 'middle', '/16 beats /8 when the /24 does not contain it');
});

test('source ports: an exact port first, chains without ports as the fallback, unknown port reported', (t) => {
  const list = chains(chain().name('port').sourcePorts(1234, 5678).tcpProxy('a'), chain().name('any').tcpProxy('b'));
  const pick = (srcPort: number | null) => selectByFilterChainMatch(list, null, conn('10.0.0.1', 80, { src: ip('10.0.0.9'), srcPort }));
  t.is(pick(5678).chain?.name, 'port');
  t.is(pick(999).chain?.name, 'any');
  t.is(pick(null).chain?.name, 'any');
  t.deepEqual(pick(null).uncertain, ['source port (a chain matches on source_ports)']);
  const onlyPort = chains(chain().name('port').sourcePorts(1234).tcpProxy('a'));
  t.is(selectByFilterChainMatch(onlyPort, null, conn('10.0.0.1', 80, { src: ip('10.0.0.9'), srcPort: 999 })).reason, 'no chain matches source port 999');
});

test('exact destination means a /32 (or /128) range holding the address; no chains at all is said as such', (t) => {
  const exact = (cidr: [string, number], dst: string) => selectByFilterChainMatch(chains(chain().destinationPrefix(...cidr).tcpProxy('x')), null, conn(dst, 1)).exactDestination;
  t.true(exact(['10.1.2.3', 32], '10.1.2.3'));
  t.false(exact(['10.1.2.0', 24], '10.1.2.3'));
  t.false(exact(['10.1.2.2', 31], '10.1.2.3'));
  t.true(exact(['fd00::1', 128], 'fd00::1'));
  t.false(exact(['fd00::', 120], 'fd00::1'));
  const none = selectByFilterChainMatch([], null, conn('10.0.0.1', 80));
  t.is(none.chain, null);
  t.is(none.reason, 'the listener has no filter chains');
});
