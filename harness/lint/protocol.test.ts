import test from 'ava';
import { isCatchAllProtocol, protocolFromName, servicePortProtocol } from './protocol.ts';

const port = (name: string | null, extra: { port?: number; appProtocol?: string; transport?: string } = {}) =>
  servicePortProtocol({ port: extra.port ?? 9000, name, appProtocol: extra.appProtocol ?? null, transport: extra.transport ?? null });

test('port names are <protocol>[-suffix], case-insensitive', (t) => {
  t.is(protocolFromName('tcp-hazelcast'), 'tcp');
  t.is(protocolFromName('HTTP2-api'), 'http2');
  t.is(protocolFromName('grpc-web-ui'), 'grpc-web');
  t.is(protocolFromName('grpc-api'), 'grpc');
  t.is(protocolFromName('hazelcast'), 'unknown');
  t.is(protocolFromName('tcp_hazelcast'), 'unknown');
  t.is(protocolFromName('httpx'), 'unknown');
});

test('appProtocol wins over the name; Kubernetes standard values map like istiod', (t) => {
  t.is(port('http-app', { appProtocol: 'tcp' }), 'tcp');
  t.is(port('web', { appProtocol: 'kubernetes.io/h2c' }), 'http2');
  t.is(port('web', { appProtocol: 'kubernetes.io/ws' }), 'http');
  t.is(port('tcp-x', { appProtocol: 'custom.io/thing' }), 'tcp');
});

test('UDP transport is UDP; well-known ports default to TCP; unnamed is unknown', (t) => {
  t.is(port('dns', { transport: 'UDP' }), 'udp');
  t.is(port('db', { port: 3306 }), 'tcp');
  t.is(port(null), 'unknown');
});

test('only non-HTTP, non-TLS TCP ports are catch-alls', (t) => {
  t.true(isCatchAllProtocol('tcp'));
  t.true(isCatchAllProtocol('unknown'));
  t.true(isCatchAllProtocol('mongo'));
  t.false(isCatchAllProtocol('http'));
  t.false(isCatchAllProtocol('grpc'));
  t.false(isCatchAllProtocol('tls'));
  t.false(isCatchAllProtocol('udp'));
});
