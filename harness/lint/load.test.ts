import test from 'ava';
import { loadResources } from './load.ts';
import { lint } from './lint.ts';
import { UsageError } from '../errors/index.ts';

// Line numbers below are counted by hand from this text.
const MULTI = [
  '# leading comment',              // 1
  '---',                            // 2
  'apiVersion: v1',                 // 3  Service a
  'kind: Service',                  // 4
  'metadata: {name: a, namespace: one}', // 5
  'spec:',                          // 6
  '  ports:',                       // 7
  '  - name: tcp-a',                // 8
  '    port: 5701',                 // 9
  '---',                            // 10
  '---',                            // 11 empty document
  'apiVersion: v1',                 // 12 List
  'kind: List',                     // 13
  'items:',                         // 14
  '- apiVersion: v1',               // 15 Service b
  '  kind: Service',                // 16
  '  metadata:',                    // 17
  '    name: b',                    // 18
  '    namespace: two',             // 19
  '  spec:',                        // 20
  '    ports:',                     // 21
  '    - port: 5701',               // 22
  '      name: tcp-b',              // 23
  '- apiVersion: v1',               // 24 Service c (ExternalName)
  '  kind: Service',                // 25
  '  metadata: {name: c, namespace: three}', // 26
  '  spec:',                        // 27
  '    type: ExternalName',         // 28
  '    externalName: x.example.com',// 29
  '    ports:',                     // 30
  '    - name: http',               // 31
  '      port: 80',                 // 32
  '    - name: tcp',                // 33
  '      port: 5701',               // 34
  '',
].join('\n');

test('every document and List item becomes a resource at the line where it starts', (t) => {
  const rs = loadResources([{ path: 'm.yaml', text: MULTI }]);
  t.deepEqual(rs.map((r) => [r.kind, r.namespace, r.name, r.line]), [
    ['Service', 'one', 'a', 3],
    ['Service', 'two', 'b', 15],
    ['Service', 'three', 'c', 24],
  ]);
});

test('findings point at the offending port line, in a List too', (t) => {
  const findings = lint([{ path: 'm.yaml', text: MULTI }], { istio: '1.20' });
  const pp001 = findings.find((f) => f.rule === 'PP001');
  t.like(pp001, { resource: 'Service/three/c', file: 'm.yaml', line: 33, severity: 'error' });
  const pp003 = findings.filter((f) => f.rule === 'PP003').map((f) => [f.resource, f.line]);
  t.deepEqual(pp003, [['Service/one/a', 8], ['Service/two/b', 22], ['Service/three/c', 33]]);
});

test('lines are per file when several inputs are given', (t) => {
  const one = 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: one}\nspec:\n  ports: [{port: 5701}]\n';
  const two = '\n\n\napiVersion: v1\nkind: Service\nmetadata: {name: b, namespace: one}\nspec:\n  ports: [{port: 7000}]\n';
  const findings = lint([{ path: 'one.yaml', text: one }, { path: 'two.yaml', text: two }]).filter((f) => f.rule === 'PP004');
  t.deepEqual(findings.map((f) => `${f.file}:${f.line}`), ['one.yaml:5', 'two.yaml:8']);
});

test('invalid YAML is a UsageError naming file:line:col', (t) => {
  const text = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {x: [1, 2}\n';
  const error = t.throws(() => loadResources([{ path: 'bad.yaml', text }]), { instanceOf: UsageError });
  t.regex(error.shortMessage, /^lint: bad\.yaml:5:\d+: /);
});

test('an invalid document after valid ones is still reported with its own line', (t) => {
  const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: x}\nkind: Pod\n';
  const error = t.throws(() => loadResources([{ path: 'f.yaml', text }]), { instanceOf: UsageError });
  t.regex(error.shortMessage, /^lint: f\.yaml:8:1: Map keys must be unique/);
});

test('documents that are not mappings are rejected with their line', (t) => {
  const scalar = t.throws(() => loadResources([{ path: 's.yaml', text: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\njust text\n' }]), { instanceOf: UsageError });
  t.regex(scalar.shortMessage, /^lint: s\.yaml:5:1: expected a Kubernetes object/);
});

test('mappings without kind (Helm values, kind-less kustomizations) are skipped and reported', (t) => {
  const skipped: { file: string; line: number; reason: string }[] = [];
  const rs = loadResources([{ path: 'k.yaml', text: '\nreplicaCount: 2\nimage: {tag: x}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n' }], skipped);
  t.deepEqual(rs.map((r) => r.name), ['a']);
  t.deepEqual(skipped, [{ file: 'k.yaml', line: 2, reason: 'a mapping without kind is not a Kubernetes object' }]);
});

test('empty input and comment-only documents yield nothing', (t) => {
  t.deepEqual(loadResources([{ path: 'e.yaml', text: '' }, { path: 'c.yaml', text: '# only a comment\n---\n' }]), []);
});

test('YAML anchors and aliases are followed', (t) => {
  const text = 'kind: List\nitems:\n- kind: Service\n  metadata: {name: a, namespace: one}\n  spec:\n    ports:\n    - &p {name: hazelcast, port: 5701}\n- kind: Service\n  metadata: &m {name: b, namespace: one}\n  spec:\n    ports: [*p]\n';
  const findings = lint([{ path: 'a.yaml', text }]).filter((f) => f.rule === 'PP004');
  t.deepEqual(findings.map((f) => f.resource), ['Service/one/a', 'Service/one/b']);
});
