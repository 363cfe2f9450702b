import test from 'ava';
import fc from 'fast-check';
import { loadResources } from './load.ts';
import { lint } from './lint.ts';

// Random streams of Services separated by ---, comments and blank lines, some inside a kind: List:
// every resource must be reported at the line where its mapping starts, whatever surrounds it.
const filler = fc.array(fc.constantFrom('', '# comment', '   ', '#'), { maxLength: 3 });
const doc = fc.record({ before: filler, inList: fc.boolean(), port: fc.integer({ min: 1, max: 65535 }) });

test('resource lines survive any mix of separators, comments and List items', (t) => {
  fc.assert(fc.property(fc.array(doc, { minLength: 1, maxLength: 12 }), (docs) => {
    const lines: string[] = [];
    const expected: [string, number][] = [];
    const listItems: { name: string; port: number }[] = [];
    docs.forEach((d, i) => {
      if (d.inList) {
        listItems.push({ name: `s${i}`, port: d.port });
        return;
      }
      lines.push('---', ...d.before);
      expected.push([`s${i}`, lines.length + 1]);
      lines.push('apiVersion: v1', 'kind: Service', 'metadata:', `  name: s${i}`, '  namespace: n', 'spec:', '  ports:', `  - port: ${d.port}`, '    name: tcp');
    });
    if (listItems.length) {
      lines.push('---', 'apiVersion: v1', 'kind: List', 'items:');
      for (const item of listItems) {
        expected.push([item.name, lines.length + 1]);
        lines.push('- apiVersion: v1', '  kind: Service', `  metadata: {name: ${item.name}, namespace: n}`, '  spec:', '    ports:', `    - {port: ${item.port}, name: tcp}`);
      }
    }
    const got = loadResources([{ path: 'p.yaml', text: lines.join('\n') + '\n' }]).map((r) => [r.name, r.line]);
    t.deepEqual(got, expected);
  }), { numRuns: 200 });
});

test('findings do not depend on the order of the documents', (t) => {
  const docs = [
    'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: x}\nspec:\n  ports: [{name: tcp-a, port: 5701}]\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: e, namespace: y}\nspec:\n  type: ExternalName\n  externalName: z.example.com\n  ports: [{name: tcp-e, port: 5701}]\n',
    'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: z}\nspec:\n  egress: [{hosts: ["./*"]}]\n',
    'apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: z}\nspec:\n  ports: [{name: tcp-c, port: 5701}]\n',
  ];
  const key = (order: number[]) =>
    lint(order.map((i) => ({ path: `d${i}.yaml`, text: docs[i] })), { istio: '1.20' })
      .map((f) => `${f.rule} ${f.severity} ${f.resource} ${f.file}:${f.line}`).sort();
  const reference = key([0, 1, 2, 3]);
  t.true(reference.some((k) => k.startsWith('PP001 error')), 'the ExternalName reaches x, where a uses 5701');
  fc.assert(fc.property(fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }), (order) => {
    t.deepEqual(key(order), reference);
  }), { numRuns: 24 });
});
