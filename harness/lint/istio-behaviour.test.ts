import test from 'ava';
import { dnsAutoAllocateDefault, envBool, externalNameCreatesListener, parseIstioVersion } from './istio-behaviour.ts';

test('versions parse as MAJOR.MINOR with optional patch, v and pre-release', (t) => {
  t.deepEqual(parseIstioVersion('1.22'), { major: 1, minor: 22 });
  t.deepEqual(parseIstioVersion('v1.24.3'), { major: 1, minor: 24 });
  t.deepEqual(parseIstioVersion('1.25.0-beta.1'), { major: 1, minor: 25 });
  t.is(parseIstioVersion('latest'), null);
  t.is(parseIstioVersion('1'), null);
});

test('ExternalName listeners: <= 1.19 always (the flag did not exist)', (t) => {
  t.true(externalNameCreatesListener('1.6'));
  t.true(externalNameCreatesListener('1.19.4', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }));
});

test('ExternalName listeners: 1.20 unless opted in with ENABLE_EXTERNAL_NAME_ALIAS=true', (t) => {
  t.true(externalNameCreatesListener('1.20'));
  t.true(externalNameCreatesListener('1.20.8', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }));
  t.false(externalNameCreatesListener('1.20', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }));
});

test('ExternalName listeners: 1.21-1.23 only with ENABLE_EXTERNAL_NAME_ALIAS=false', (t) => {
  for (const v of ['1.21', '1.22.1', '1.23.6']) {
    t.false(externalNameCreatesListener(v), v);
    t.false(externalNameCreatesListener(v, { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }), v);
    t.true(externalNameCreatesListener(v, { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }), v);
    t.true(externalNameCreatesListener(v, { ENABLE_EXTERNAL_NAME_ALIAS: '0' }), `${v} Go ParseBool`);
  }
});

test('ExternalName listeners: never from 1.24, whatever the removed flag says', (t) => {
  t.false(externalNameCreatesListener('1.24'));
  t.false(externalNameCreatesListener('1.30.1', { ENABLE_EXTERNAL_NAME_ALIAS: 'true' }));
  t.is(externalNameCreatesListener('1.24', { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }), false);
  t.is(externalNameCreatesListener('not-a-version'), 'unknown');
});

test('an unparseable flag value leaves the default, as Go env.Register does', (t) => {
  t.is(envBool('yes'), undefined);
  t.false(externalNameCreatesListener('1.22', { ENABLE_EXTERNAL_NAME_ALIAS: 'yes' }));
});

test('DNS auto-allocation is on by default from 1.25', (t) => {
  t.false(dnsAutoAllocateDefault('1.24.2'));
  t.true(dnsAutoAllocateDefault('1.25'));
  t.true(dnsAutoAllocateDefault('1.30'));
  t.is(dnsAutoAllocateDefault('x'), 'unknown');
});
