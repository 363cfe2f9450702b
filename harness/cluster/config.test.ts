import test from 'ava';
import { parse } from 'yaml';
import { checkDuration, istioOperator, istioVersionFromImage, markerConfigMap, parseMarkerData, parsePilotEnv, revisionFor, type ClusterMarker } from './config.ts';
import { UsageError } from '../errors/index.ts';

test('--pilot-env takes NAME=VALUE pairs; values may contain =', (t) => {
  t.deepEqual(parsePilotEnv(['ENABLE_EXTERNAL_NAME_ALIAS=false', 'PILOT_X=a=b']), { ENABLE_EXTERNAL_NAME_ALIAS: 'false', PILOT_X: 'a=b' });
  t.throws(() => parsePilotEnv(['ENABLE_EXTERNAL_NAME_ALIAS']), { instanceOf: UsageError });
  t.throws(() => parsePilotEnv(['lower=1']), { instanceOf: UsageError });
});

test('connectTimeout must be a duration MeshConfig accepts', (t) => {
  t.is(checkDuration('1s'), '1s');
  t.is(checkDuration('500ms'), '500ms');
  t.throws(() => checkDuration('1'), { instanceOf: UsageError });
});

test('revision names replace dots (Istio revisions allow only [a-z0-9-])', (t) => {
  t.is(revisionFor('1.30.5'), '1-30-5');
});

test('IstioOperator with a revision names it in spec.revision', (t) => {
  const doc = istioOperator({ logEncoding: 'text', revision: '1-30-5' });
  t.is((doc.spec as { revision: string }).revision, '1-30-5');
  t.is(doc.metadata.name, 'podpath-1-30-5');
});

test('the marker survives a round trip through kubectl jsonpath={.data} output', (t) => {
  const marker: ClusterMarker = { name: 'podpath', istio: '1.30.5', revision: '', kind: 'v0.32.0', nodeImage: 'kindest/node:v1.36.1@sha256:x', logEncoding: 'json', connectTimeout: '1s', pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }, createdAt: '2026-11-23T10:00:00Z', podpath: '0.1.0' };
  const cm = markerConfigMap(marker);
  t.is(cm.metadata.namespace, 'kube-system');
  t.is(cm.metadata.name, 'podpath-cluster');
  t.deepEqual(parseMarkerData(JSON.stringify(cm.data)), marker);
});

test('anything that is not a podpath marker parses to null', (t) => {
  t.is(parseMarkerData(''), null);
  t.is(parseMarkerData('{"foo":"bar"}'), null);
  t.is(parseMarkerData('Error from server (NotFound)'), null);
});

test('Istio version from the istiod image tag', (t) => {
  t.is(istioVersionFromImage('docker.io/istio/pilot:1.30.5'), '1.30.5');
  t.is(istioVersionFromImage('gcr.io/istio-release/pilot:1.22.8-distroless\n'), '1.22.8-distroless');
  t.is(istioVersionFromImage('nginx:1.27'), null);
});

test('the operator YAML is a single valid document', (t) => {
  const doc = parse(`${'# comment\n'}${JSON.stringify(istioOperator({ logEncoding: 'json' }))}`);
  t.is(doc.spec.meshConfig.accessLogEncoding, 'JSON');
});
