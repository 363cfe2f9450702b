import test from 'ava';
import { selectByMatcher } from './matcher.ts';
import { parseIp } from './ip.ts';
import { filterChain, unifiedMatcher } from './model.ts';
import { chain, exactMap, inputs, ipTrie, nested, toChain } from './testing/builders.ts';
import type { Connection } from './connection.ts';
import type { JsonObject } from './json.ts';

const CHAINS = ['a', 'b', 'c', 'http', 'tcp'].map((name, i) => filterChain(chain().name(name).tcpProxy(name).build(), i));

function conn(dst: string, port: number, extra: Partial<Connection> = {}): Connection {
  const ip = parseIp(dst);
  if (!ip) throw new Error(dst);
  return { dst: ip, port, src: null, srcPort: null, serverName: '', transportProtocol: 'raw_buffer', applicationProtocols: [], ...extra };
}

function pick(matcher: JsonObject, c: Connection): string | null {
  return selectByMatcher(unifiedMatcher(matcher), CHAINS, null, c).chain?.name ?? null;
}

test('IP trie: most specific range first; a non-exclusive wider range is tried when the narrower nested match fails', (t) => {
  const m = ipTrie(inputs.ip, [
    { cidr: '10.0.0.0/8', onMatch: toChain('a') },
    { cidr: '10.1.0.0/16', onMatch: nested(exactMap(inputs.port, { '80': toChain('b') })) },
  ]);
  t.is(pick(m, conn('10.1.2.3', 80)), 'b');
  t.is(pick(m, conn('10.1.2.3', 81)), 'a');
  t.is(pick(m, conn('11.0.0.1', 81)), null);
});

test('IP trie: an exclusive wider range is not used after a more specific range fails', (t) => {
  const m = ipTrie(inputs.ip, [
    { cidr: '10.0.0.0/8', onMatch: toChain('a'), exclusive: true },
    { cidr: '10.1.0.0/16', onMatch: nested(exactMap(inputs.port, { '80': toChain('b') })) },
  ], toChain('c'));
  t.is(pick(m, conn('10.1.2.3', 81)), 'c');
  t.is(pick(m, conn('10.2.0.1', 81)), 'a');
});

test('exact map: a nested matcher without on_no_match that fails falls to the parent on_no_match', (t) => {
  const m = exactMap(inputs.port, { '80': nested(exactMap(inputs.transport, { tls: toChain('a') })) }, toChain('c'));
  t.is(pick(m, conn('1.1.1.1', 80, { transportProtocol: 'tls' })), 'a');
  t.is(pick(m, conn('1.1.1.1', 80)), 'c');
});

test("application protocol input is the quoted ALPN list, as Istio's sniffing matcher expects", (t) => {
  const m = exactMap(inputs.alpn, { "'h2c'": toChain('http'), "'http/1.1'": toChain('http') }, toChain('tcp'));
  t.is(pick(m, conn('1.1.1.1', 80, { applicationProtocols: ['http/1.1'] })), 'http');
  t.is(pick(m, conn('1.1.1.1', 80)), 'tcp');
});

test('prefix map: longest prefix first', (t) => {
  const m: JsonObject = { matcher_tree: { input: inputs.sni, prefix_match_map: { map: { 'api.': toChain('a'), 'api.internal.': toChain('b') } } }, on_no_match: toChain('c') };
  t.is(pick(m, conn('1.1.1.1', 443, { serverName: 'api.internal.example' })), 'b');
  t.is(pick(m, conn('1.1.1.1', 443, { serverName: 'api.example' })), 'a');
  t.is(pick(m, conn('1.1.1.1', 443)), 'c');
});

test('matcher_list: first field matcher whose predicate holds, with and/not predicates', (t) => {
  const single = (input: JsonObject, exact: string) => ({ single_predicate: { input, value_match: { exact } } });
  const m: JsonObject = {
    matcher_list: {
      matchers: [
        { predicate: { and_matcher: { predicate: [single(inputs.port, '80'), { not_matcher: single(inputs.transport, 'tls') }] } }, on_match: toChain('a') },
        { predicate: single(inputs.port, '80'), on_match: toChain('b') },
      ],
    },
  };
  t.is(pick(m, conn('1.1.1.1', 80)), 'a');
  t.is(pick(m, conn('1.1.1.1', 80, { transportProtocol: 'tls' })), 'b');
  t.is(pick(m, conn('1.1.1.1', 81)), null);
});

test('an action naming an unknown chain uses default_filter_chain, and reading the source address is reported', (t) => {
  const fallback = filterChain(chain().tcpProxy('d').build(), -1);
  const d = selectByMatcher(unifiedMatcher(exactMap(inputs.sourceIp, { '10.0.0.1': toChain('a') }, toChain('nope'))), CHAINS, fallback, conn('1.1.1.1', 80));
  t.is(d.chain?.index, -1);
  t.regex(d.reason, /names "nope", which is not a filter chain/);
  t.true(d.uncertain.some((u) => u.includes('SourceIPInput')));
});

test('a matcher nested 2000 levels deep is refused with podpath\'s own message, not a stack overflow', (t) => {
  let m: JsonObject = exactMap(inputs.port, { '80': toChain('a') });
  for (let i = 0; i < 2000; i++) m = exactMap(inputs.port, { '80': nested(m) });
  t.throws(() => unifiedMatcher(m), { name: 'UsageError', message: /^filter_chain_matcher: the matcher tree nests more than 100 levels deep/ });
  let p: JsonObject = { single_predicate: { input: inputs.sni, value_match: { exact: 'x' } } };
  for (let i = 0; i < 2000; i++) p = { not_matcher: p };
  t.throws(() => unifiedMatcher({ matcher_list: { matchers: [{ predicate: p, on_match: toChain('a') }] } }), { name: 'UsageError', message: /a predicate nests more than 100/ });
});

test('a tree whose failed branches retry exponentially stops after a bounded walk and says so', (t) => {
  // Every level has two keys prefixing the SNI and nothing matches at the bottom: 2^16 paths
  // here (each further level doubles it; the text of a real dump grows with it, so keep it small).
  let m: JsonObject = exactMap(inputs.port, { '1': toChain('a') });
  for (let i = 0; i < 16; i++) m = { matcher_tree: { input: inputs.sni, prefix_match_map: { map: { a: nested(m), aa: nested(m) } } } };
  const decision = selectByMatcher(unifiedMatcher(m), CHAINS, null, conn('1.1.1.1', 443, { serverName: 'aaaa' }));
  t.is(decision.chain, null);
  t.true(decision.uncertain.some((u) => /stopped after 10000 matcher visits/.test(u)));
});
