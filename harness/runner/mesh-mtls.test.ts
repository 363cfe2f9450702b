import test from 'ava';
import type { KubeDocument } from '../kube/index.ts';
import { meshMtls } from './mesh-mtls.ts';

function pa(name: string, namespace: string, spec: Record<string, unknown>, created = '2026-11-23T10:00:00Z'): KubeDocument {
  return { apiVersion: 'security.istio.io/v1beta1', kind: 'PeerAuthentication', metadata: { name, namespace, creationTimestamp: created }, spec };
}

test('no PeerAuthentication: Istio\'s default PERMISSIVE, no policy named', (t) => {
  t.deepEqual(meshMtls([]), { mode: 'PERMISSIVE', policy: null });
});

test('a root-namespace policy without a selector sets the mesh-wide mode', (t) => {
  t.deepEqual(meshMtls([pa('default', 'istio-system', { mtls: { mode: 'STRICT' } })]), { mode: 'STRICT', policy: 'istio-system/default' });
  t.deepEqual(meshMtls([pa('default', 'istio-system', { selector: { matchLabels: {} }, mtls: { mode: 'DISABLE' } })]), { mode: 'DISABLE', policy: 'istio-system/default' }, 'empty matchLabels is no selector');
});

test('namespace-level, workload-level and other kinds are not mesh-wide', (t) => {
  const docs = [
    pa('default', 'app', { mtls: { mode: 'STRICT' } }),
    pa('one-workload', 'istio-system', { selector: { matchLabels: { app: 'x' } }, mtls: { mode: 'STRICT' } }),
    { ...pa('default', 'istio-system', { mtls: { mode: 'STRICT' } }), kind: 'RequestAuthentication' },
  ];
  t.deepEqual(meshMtls(docs), { mode: 'PERMISSIVE', policy: null });
});

test('of several mesh-wide policies the oldest wins; UNSET leaves PERMISSIVE', (t) => {
  const newer = pa('strict', 'istio-system', { mtls: { mode: 'STRICT' } }, '2026-11-23T11:00:00Z');
  const older = pa('unset', 'istio-system', { mtls: { mode: 'UNSET' } }, '2026-11-23T09:00:00Z');
  t.deepEqual(meshMtls([newer, older]), { mode: 'PERMISSIVE', policy: 'istio-system/unset' });
  t.deepEqual(meshMtls([newer, pa('no-mtls', 'istio-system', {}, '2026-11-23T12:00:00Z')]), { mode: 'STRICT', policy: 'istio-system/strict' });
});
