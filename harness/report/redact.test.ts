import test from 'ava';
import fc from 'fast-check';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describeRedactions, redact, redactValue, REDACTED, type RedactionCounts } from './redact.ts';
import { CLIENT_UF_URX_LINE, SERVER_INBOUND_LINE } from './testing/fixtures.ts';

// A syntactically PEM-shaped block; the body is made-up base64, not a real key.
const KEY_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu';
const PEM_KEY = `-----BEGIN PRIVATE KEY-----\n${KEY_BODY}\n-----END PRIVATE KEY-----`;
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\nRTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD\n-----END CERTIFICATE-----';
const JWT = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLWJ5dGVz';

test('Authorization headers lose their value whatever the case', (t) => {
  const text = 'GET /probe HTTP/1.1\nHost: 10.244.1.8:8080\nAuthorization: Bearer abc.def-ghi\nproxy-authorization: Basic dXNlcjpwYXNz\nAccept: */*\n';
  const out = redact(text);
  t.false(out.includes('abc.def-ghi'));
  t.false(out.includes('dXNlcjpwYXNz'));
  t.true(out.includes(`Authorization: ${REDACTED}`));
  t.true(out.includes('Host: 10.244.1.8:8080'));
  t.true(out.includes('Accept: */*'));
});

test('bearer tokens in command lines and JSON are redacted', (t) => {
  const out = redact(`curl -H "Authorization: Bearer s3cr3t-t0ken" https://10.96.0.1\n{"headers":{"authorization":"Bearer zzz999"}}`);
  t.false(out.includes('s3cr3t-t0ken'));
  t.false(out.includes('zzz999'));
  t.true(out.includes(`Bearer ${REDACTED}`));
});

test('PEM private keys and certificates keep their armour but lose the body', (t) => {
  const out = redact(`key:\n${PEM_KEY}\ncert:\n${PEM_CERT}\ntrailer`);
  t.false(out.includes('MIIEvQIBADAN'));
  t.false(out.includes('MIIDdzCCAl'));
  t.true(out.includes(`-----BEGIN PRIVATE KEY-----${REDACTED}-----END PRIVATE KEY-----`));
  t.true(out.includes(`-----BEGIN CERTIFICATE-----${REDACTED}-----END CERTIFICATE-----`));
  t.true(out.endsWith('trailer'));
});

test('PEM with \\n escapes inside a JSON string (config dumps) is redacted and the JSON stays valid', (t) => {
  const dump = JSON.stringify({ tls_certificate: { certificate_chain: { inline_string: PEM_CERT } } });
  const out = redact(dump);
  t.false(out.includes('MIIDdzCCAl'));
  const parsed = JSON.parse(out) as { tls_certificate: { certificate_chain: { inline_string: string } } };
  t.is(parsed.tls_certificate.certificate_chain.inline_string, `-----BEGIN CERTIFICATE-----${REDACTED}-----END CERTIFICATE-----`);
});

test('base64-encoded PEM (kubeconfig *-data, Envoy inline_bytes) is redacted', (t) => {
  const b64 = Buffer.from(PEM_CERT).toString('base64');
  const out = redact(`"inline_bytes": "${b64}"`);
  t.false(out.includes(b64.slice(0, 30)));
  t.true(out.includes(REDACTED));
});

test('kubeconfig client-key-data, client-certificate-data and token are redacted; the rest stays', (t) => {
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${Buffer.from(PEM_CERT).toString('base64')}`,
    '    server: https://127.0.0.1:6443',
    '  name: kind-podpath',
    'users:',
    '- name: kind-podpath',
    '  user:',
    '    client-certificate-data: QUJDREVGR0hJSktMTU5PUA==',
    '    client-key-data: UFJJVkFURUtFWURBVEE=',
    '    token: abcdef.0123456789abcdef',
    '',
  ].join('\n');
  const out = redact(kubeconfig);
  for (const secret of ['UFJJVkFURUtFWURBVEE=', 'QUJDREVGR0hJSktMTU5PUA==', 'abcdef.0123456789abcdef', 'LS0tLS1CRUdJT']) t.false(out.includes(secret), secret);
  t.true(out.includes('server: https://127.0.0.1:6443'));
  const parsed = parseYaml(out) as { users: { user: Record<string, string> }[] };
  t.is(parsed.users[0].user['client-key-data'], REDACTED);
  t.is(parsed.users[0].user.token, REDACTED);
});

test('Secret data and stringData are redacted in multi-document YAML, ConfigMap data is not', (t) => {
  const yaml = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: {name: agent, namespace: manager}',
    'data:',
    '  agent.ts: console.log("hi")',
    '---',
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: db',
    '  namespace: app',
    'type: Opaque',
    'data:',
    '  password: aHVudGVyMg==',
    '  username: YWRtaW4=',
    'stringData:',
    '  config.yaml: |',
    '    url: postgres://admin:hunter2@db:5432',
    '    mode: strict',
    '',
  ].join('\n');
  const out = redact(yaml);
  for (const secret of ['aHVudGVyMg==', 'YWRtaW4=', 'hunter2']) t.false(out.includes(secret), secret);
  const docs = parseAllDocuments(out).map((d) => d.toJS() as { kind: string; data: Record<string, string>; stringData?: Record<string, string> });
  t.is(docs.length, 2);
  t.is(docs[0].data['agent.ts'], 'console.log("hi")');
  t.deepEqual(docs[1].data, { password: REDACTED, username: REDACTED });
  t.deepEqual(docs[1].stringData, { 'config.yaml': REDACTED });
});

test('Secrets inside a List (kubectl get secrets -o yaml) are redacted', (t) => {
  const yaml = ['apiVersion: v1', 'kind: List', 'items:', '- apiVersion: v1', '  kind: Secret', '  metadata:', '    name: istio-ca-secret', '  data:', '    ca-key.pem: c2VjcmV0LWtleQ==', ''].join('\n');
  const out = redact(yaml);
  t.false(out.includes('c2VjcmV0LWtleQ=='));
  t.true(out.includes('ca-key.pem'));
});

test('Secret JSON (kubectl get secret -o json), alone and in a List', (t) => {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'aHVudGVyMg==' }, stringData: { url: 'x://admin:hunter2@db' } };
  const one = JSON.parse(redact(JSON.stringify(secret))) as typeof secret;
  t.deepEqual(one.data, { password: REDACTED });
  t.deepEqual(one.stringData, { url: REDACTED });
  t.is(one.metadata.name, 'db');
  const list = redact(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [secret] }, null, 2));
  t.false(list.includes('aHVudGVyMg=='));
  t.false(list.includes('hunter2'));
});

test('Secret YAML that does not parse is still redacted by indentation', (t) => {
  const broken = ['kind: Secret', 'metadata:', '  name: x', '  bad: [unclosed', 'data:', '  token: dG9rZW4tdmFsdWU=', '  other: b3RoZXI=', 'type: Opaque'].join('\n');
  const out = redact(broken);
  t.false(out.includes('dG9rZW4tdmFsdWU='));
  t.false(out.includes('b3RoZXI='));
  t.true(out.includes('type: Opaque'));
});

test('service-account JWTs are redacted anywhere', (t) => {
  const out = redact(`mounted token ${JWT} for manager`);
  t.is(out, `mounted token ${REDACTED} for manager`);
});

test('text without secrets comes back byte for byte (access log lines, events, describe output)', (t) => {
  const text = [CLIENT_UF_URX_LINE, SERVER_INBOUND_LINE, '  Normal  Pulled  2m  kubelet  Container image "docker.io/istio/proxyv2:1.20.8" already present', 'Tokens: 3 active', ''].join('\n');
  t.is(redact(text), text);
});

test('redactValue walks objects: sensitive keys and patterns inside strings', (t) => {
  const value = { run: { argv: ['run', '--token', 'x'] }, headers: { Authorization: 'Bearer q1w2e3' }, note: `key ${PEM_KEY}`, count: 3 };
  const out = redactValue(value);
  t.is(out.headers.Authorization, REDACTED);
  t.false(out.note.includes('MIIEvQ'));
  t.is(out.count, 3);
  t.deepEqual(out.run.argv, ['run', '--token', 'x']);
});

const secretArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{12,30}$/).map((s) => ({ secret: s, text: `Authorization: Bearer ${s}` })),
  fc.stringMatching(/^[A-Za-z0-9+/]{16,40}$/).map((s) => ({ secret: s, text: `-----BEGIN RSA PRIVATE KEY-----\n${s}\n-----END RSA PRIVATE KEY-----` })),
  fc.stringMatching(/^[A-Za-z0-9]{12,30}$/).map((s) => ({ secret: s, text: `    client-key-data: ${s}` })),
);
const fillerArb = fc.array(fc.constantFrom(CLIENT_UF_URX_LINE, 'plain text line', 'kind: Deployment', '{"a": 1}', ''), { maxLength: 4 });

test('property: an embedded secret never survives, and redaction is idempotent', (t) => {
  fc.assert(
    fc.property(fillerArb, secretArb, fillerArb, (before, { secret, text }, after) => {
      const input = [...before, text, ...after].join('\n');
      const once = redact(input);
      return !once.includes(secret) && redact(once) === once;
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test('only the Secret document is re-serialised; the other documents stay byte for byte', (t) => {
  const service = ['---', 'apiVersion: v1', 'kind: Service', 'metadata:   {name: app-ext,   namespace: app}   # odd spacing kept', 'spec: {type: ExternalName, externalName: idle.idle.svc.cluster.local}', ''].join('\n');
  const secret = ['---', 'kind: Secret', 'metadata: {name: s}', 'data:', '  k: c2VjcmV0', ''].join('\n');
  const out = redact(service + secret + service);
  t.true(out.startsWith(service));
  t.true(out.endsWith(service));
  t.false(out.includes('c2VjcmV0'));
});

test('an unterminated PEM block is left alone and later complete blocks are still redacted', (t) => {
  const text = `-----BEGIN CERTIFICATE-----\ntruncated by kubectl logs --limit-bytes\n${PEM_KEY}`;
  const out = redact(text);
  t.false(out.includes('MIIEvQ'));
  t.true(out.startsWith('-----BEGIN CERTIFICATE-----\ntruncated'));
});

/** Best of three batches of at least ~20 ms each: the timer's grain, a GC pause or a busy core do not decide. */
function perCall(fn: () => void): number {
  const batch = (reps: number): number => {
    const start = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return (performance.now() - start) / reps;
  };
  let reps = 1;
  while (batch(reps) * reps < 20 && reps < 4096) reps *= 2;
  return Math.min(batch(reps), batch(reps), batch(reps));
}

test('redact() is linear on whitespace-only lines: measured against text of the same size and shape', (t) => {
  // Each adversarial input beside a reference with the same length and line count whose lines
  // hold no whitespace run; redact() on the reference is a plain linear scan. A pattern whose
  // line-start \s* runs across newlines rescans every remaining line: hundreds of times slower.
  const lines = 2000;
  const pairs: Array<[string, string, string]> = [
    ['spaces then newline', ' \n'.repeat(lines), 'x\n'.repeat(lines)],
    ['tabs then CRLF', '\t\r\n'.repeat(lines), 'xx\n'.repeat(lines)],
    ['an Authorization header then blank lines', `Authorization:\n${'  \n'.repeat(lines)}`, `Authorization:\n${'xx\n'.repeat(lines)}`],
  ];
  for (const [name, adversarial, reference] of pairs) {
    t.is(adversarial.length, reference.length);
    t.is(redact(adversarial), adversarial);
    const ratio = perCall(() => redact(adversarial)) / perCall(() => redact(reference));
    t.true(ratio < 10, `${name}: ${ratio.toFixed(1)}× the time of a same-size reference (linear ≈ 1)`);
  }
});

test('kubeconfig token: | block scalars lose every line of the value', (t) => {
  const kubeconfig = 'users:\n- name: ci\n  user:\n    token: |\n      s3cr3t-line-one\n      s3cr3t-line-two\n    username: ci\n';
  const out = redact(kubeconfig);
  t.false(out.includes('s3cr3t'), out);
  t.true(out.includes('    username: ci'));
  t.true(out.includes('    token: |'));
  const folded = redact('- name: x\n  password: >-\n    hunter2\n  other: kept\n');
  t.false(folded.includes('hunter2'));
  t.true(folded.includes('  other: kept'));
});

test('kubeconfig exec.env values are redacted, names kept', (t) => {
  const yaml = 'users:\n- name: gke\n  user:\n    exec:\n      command: gke-gcloud-auth-plugin\n      env:\n      - name: CLOUDSDK_AUTH_ACCESS_TOKEN\n        value: ya29.s3cr3t\n      - name: OTHER\n        value: "quoted s3cr3t"\n    username: kept\n';
  const out = redact(yaml);
  t.false(out.includes('s3cr3t'), out);
  t.true(out.includes('name: CLOUDSDK_AUTH_ACCESS_TOKEN'));
  t.true(out.includes('command: gke-gcloud-auth-plugin'));
  t.true(out.includes('username: kept'));
  const json = redactValue({ users: [{ user: { exec: { command: 'x', env: [{ name: 'A', value: 'json-s3cr3t' }] } } }] });
  t.false(JSON.stringify(json).includes('s3cr3t'));
  t.true(JSON.stringify(json).includes('"name":"A"'));
  // A pod's env is evidence (istiod flags), not a credential: kept.
  t.true(redact('env:\n- name: ENABLE_EXTERNAL_NAME_ALIAS\n  value: "false"\n').includes('value: "false"'));
});

test('credentials in URLs: ?token=, &access_token= and user:password@', (t) => {
  const out = redact('GET https://api.example.com/v1?token=s3cr3t1&x=1 and /cb?code=1&access_token=s3cr3t2#f\nproxy: https://admin:s3cr3t3@proxy.internal:3128/\n');
  t.false(out.includes('s3cr3t'), out);
  t.true(out.includes('&x=1'));
  t.true(out.includes(`https://admin:${REDACTED}@proxy.internal:3128/`));
  t.true(out.includes(`?token=${REDACTED}&x=1`));
});

test('sensitive JSON keys by shape: req_authorization, x-auth-token, set-cookie, apikey, x-goog-api-key', (t) => {
  const line = '{"req_authorization":"Bearer-less s3cr3t1","x-auth-token":"s3cr3t2","set-cookie":"sid=s3cr3t3; Path=/","apikey":"s3cr3t4","x-goog-api-key":"s3cr3t5","secretName":"istio-ca-secret","tokenTTL":"24h"}';
  const out = redact(line);
  t.false(out.includes('s3cr3t'), out);
  t.true(out.includes('"secretName":"istio-ca-secret"'), 'a Secret\'s name is evidence, not a secret');
  t.true(out.includes('"tokenTTL":"24h"'));
  const value = redactValue(JSON.parse(line) as Record<string, string>);
  t.false(JSON.stringify(value).includes('s3cr3t'));
  t.is(value.secretName, 'istio-ca-secret');
});

test('Set-Cookie: and X-Auth-Token: header lines lose the whole value', (t) => {
  const out = redact('HTTP/1.1 200 OK\nSet-Cookie: sid=s3cr3t1; Path=/; HttpOnly\nX-Auth-Token: s3cr3t2\nCookie: a=s3cr3t3; b=s3cr3t4\nContent-Type: text/plain\n');
  t.false(out.includes('s3cr3t'), out);
  t.true(out.includes(`Set-Cookie: ${REDACTED}`));
  t.true(out.includes('Content-Type: text/plain'));
});

test('a Secret as one JSON line inside other text, and in YAML flow style', (t) => {
  const log = `2026-11-20 event: applied\n${JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'czNjcjN0' } })}\nnext line kept\n`;
  const out = redact(log);
  t.false(out.includes('czNjcjN0'), out);
  t.true(out.includes('next line kept'));
  t.true(out.includes('"name":"db"'));
  const flow = redact('{apiVersion: v1, kind: Secret, metadata: {name: db}, stringData: {password: s3cr3t}}\n');
  t.false(flow.includes('s3cr3t'), flow);
  const prefixed = redact('I1120 10:00:00 applier.go:1] object {apiVersion: v1, kind: Secret, data: {password: czNjcjN0}, metadata: {name: x}\n');
  t.false(prefixed.includes('czNjcjN0'), prefixed);
});

test('redaction counts say what kinds of things were removed', (t) => {
  const counts: RedactionCounts = new Map();
  redact('Authorization: Bearer abc\nSet-Cookie: x=1\nhttps://u:p@h/\n', counts);
  redactValue({ kind: 'Secret', data: { a: 'YQ==', b: 'Yg==' } }, counts);
  t.is(counts.get('credential headers'), 2);
  t.is(counts.get('URL passwords'), 1);
  t.is(counts.get('Secret values'), 2);
  t.regex(describeRedactions(counts), /^2 Secret values, 2 credential headers, 1 URL passwords$|^2 credential headers, 2 Secret values, 1 URL passwords$/);
});
