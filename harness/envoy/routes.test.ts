import test from 'ava';
import { routeConfig as normalise } from './model.ts';
import { selectRoute, selectVirtualHost } from './routes.ts';
import { routeConfig, routeTo } from './testing/builders.ts';

const config = normalise(
  routeConfig('80')
    .virtualHost('exact', ['api.example.com', 'api.example.com:80'], [routeTo('c-exact')])
    .virtualHost('suffix-long', ['*.b.example.com'], [routeTo('c1')])
    .virtualHost('suffix-short', ['*.example.com'], [routeTo('c2')])
    .virtualHost('prefix', ['api.*', 'api.example.*'], [routeTo('c3')])
    .virtualHost('default', ['*'], [routeTo('c4')])
    .build(),
);

test('domain order: exact, longest suffix wildcard, longest prefix wildcard, then "*"', (t) => {
  const pick = (host: string) => selectVirtualHost(config, host)?.virtualHost.name;
  t.is(pick('api.example.com'), 'exact');
  t.is(pick('API.Example.com'), 'exact');
  t.is(pick('x.b.example.com'), 'suffix-long');
  t.is(pick('x.example.com'), 'suffix-short');
  t.is(pick('api.example.org'), 'prefix');
  t.is(selectVirtualHost(config, 'api.example.org')?.domain, 'api.example.*');
  t.is(pick('10.244.1.7:80'), 'default');
  // A port is part of the Host: "*.example.com" no longer matches, "api.example.*" does.
  t.is(pick('api.example.com:8080'), 'prefix');
});

test('a wildcard never matches the empty string', (t) => {
  const c = normalise(routeConfig('x').virtualHost('w', ['*.example.com'], [routeTo('a')]).build());
  t.is(selectVirtualHost(c, '.example.com'), null);
});

test('routes: first match in order; header conditions are assumed not to match and reported', (t) => {
  const vh = normalise(
    routeConfig('x')
      .virtualHost('v', ['*'], [
        { ...routeTo('hdr', { prefix: '/', headers: [{ name: 'x-canary', string_match: { exact: '1' } }] }, 'canary') },
        routeTo('exact', { path: '/healthz' }, 'health'),
        routeTo('regex', { safe_regex: { regex: '/api/v[0-9]+/.*' } }, 'api'),
        routeTo('sep', { path_separated_prefix: '/docs' }, 'docs'),
        routeTo('all', { prefix: '/' }, 'rest'),
      ])
      .build(),
  ).virtualHosts[0];
  const pick = (path: string) => selectRoute(vh, path).route?.name;
  t.is(pick('/healthz'), 'health');
  t.is(pick('/healthz?x=1'), 'health');
  t.is(pick('/api/v2/users'), 'api');
  t.is(pick('/docs/a'), 'docs');
  t.is(pick('/docsx'), 'rest');
  t.true(selectRoute(vh, '/').uncertain[0].includes('headers'));
});

test('safe_regex runs with RE2 semantics in linear time: nested quantifiers finish, RE2-only syntax works', (t) => {
  const vh = normalise(
    routeConfig('x')
      .virtualHost('v', ['*'], [
        // Catastrophic under a backtracking engine: 40 'a's then a mismatch is 2^40 paths.
        routeTo('nested', { safe_regex: { regex: '/(a+)+b' } }, 'nested'),
        // Named groups in RE2's (?P<name>) form are not JavaScript syntax.
        routeTo('named', { safe_regex: { regex: '/v(?P<version>[0-9]+)' } }, 'named'),
        routeTo('bad', { safe_regex: { regex: '/(x)\\1' } }, 'bad'),
        routeTo('all', { prefix: '/' }, 'rest'),
      ])
      .build(),
  ).virtualHosts[0];
  const evil = `/${'a'.repeat(40)}c`;
  t.is(selectRoute(vh, evil).route?.name, 'rest');
  t.is(selectRoute(vh, '/aab').route?.name, 'nested');
  t.is(selectRoute(vh, '/v12').route?.name, 'named');
  // A backreference is not RE2: reported, never evaluated.
  t.true(selectRoute(vh, '/xx').uncertain.some((u) => u.includes('not valid RE2')));
});

test('ignore_port_in_host_matching (istiod sets it on sidecar routes): the Host port is dropped before matching', (t) => {
  const built = routeConfig('8080').virtualHost('headless', ['*.h.ns.svc.cluster.local'], [routeTo('hl')]).virtualHost('default', ['*'], [routeTo('any')]).build() as Record<string, unknown>;
  t.is(selectVirtualHost(normalise(built), 'p-1.h.ns.svc.cluster.local:8080')?.virtualHost.name, 'default', 'without the option the port is part of the Host');
  const ignoring = normalise({ ...built, ignore_port_in_host_matching: true });
  t.is(selectVirtualHost(ignoring, 'p-1.h.ns.svc.cluster.local:8080')?.virtualHost.name, 'headless');
  t.is(selectVirtualHost(ignoring, 'p-1.h.ns.svc.cluster.local')?.virtualHost.name, 'headless');
  t.is(selectVirtualHost(ignoring, '[fd00::1]:8080')?.virtualHost.name, 'default');
});
