import test from 'ava';
import { goldenMinors, readGolden } from '../../../oracle/goldens.ts';
import { oracleVersion } from '../../../oracle/versions.ts';
import { InterruptedError } from '../../errors/index.ts';
import { OracleError } from '../errors.ts';
import type { OracleInput } from '../types.ts';
import { goldenGenerator, goldenGeneratorForState } from './golden-generator.ts';

const STATE = 'app-ext-externalname@ENABLE_EXTERNAL_NAME_ALIAS=false';

function input(pod: string, namespace: string): OracleInput {
  return { inputsHash: 'user-manifests', kubernetes: [], istioConfig: '', meshConfig: '', proxies: [{ pod, namespace, ip: '10.244.0.7', labels: { app: pod }, istioVersion: '1.24.0' }] };
}

test('serves the mapped golden under the proxy key the request asks for, with the request\'s input hash', async (t) => {
  const gen = goldenGenerator({ minors: { '1.24': STATE } });
  t.deepEqual(await gen.availability('1.24'), { state: 'ready' });
  const out = await gen.generate({ minor: '1.24', input: input('worker-5', 'jobs'), pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } });
  const golden = readGolden('1.24', STATE, 'manager')!;
  t.deepEqual(Object.keys(out.dumps), ['worker-5.jobs']);
  t.deepEqual(out.dumps['worker-5.jobs'].configs, golden.configs);
  t.deepEqual(out.record, { istioModule: golden.podpath_oracle.istioModule, istioCommit: golden.podpath_oracle.istioCommit, goVersion: golden.podpath_oracle.goVersion, inputsHash: 'user-manifests' });
  t.is(gen.requests.length, 1);
});

test('minors without a golden are unavailable, saying why', async (t) => {
  const gen = goldenGenerator({ minors: { '1.24': STATE } });
  t.deepEqual(await gen.availability('1.22'), { state: 'unavailable', reason: oracleVersion('1.22')!.unavailable! });
  t.deepEqual(await gen.availability('1.27'), { state: 'unavailable', reason: 'this test maps no golden state to Istio 1.27' });
  t.deepEqual(await goldenGenerator({ minors: { '1.24': 'no-such-state' } }).availability('1.24'), { state: 'unavailable', reason: `no golden 1.24/no-such-state under ${new URL('../../../oracle/goldens', import.meta.url).pathname}` });
  const error = await t.throwsAsync(gen.generate({ minor: '1.22', input: input('a', 'b'), pilotEnv: {} }), { instanceOf: OracleError });
  t.is(error.exitCode, 2);
});

test('a request with another istiod env than the golden was made with is refused', async (t) => {
  const gen = goldenGenerator({ minors: { '1.24': STATE } });
  const error = await t.throwsAsync(gen.generate({ minor: '1.24', input: input('a', 'b'), pilotEnv: {} }), { instanceOf: OracleError });
  t.regex(error.shortMessage, /generated with ENABLE_EXTERNAL_NAME_ALIAS=false, the request asks for no pilot env/);
  const told = goldenGenerator({ minors: { '1.24': STATE }, pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false', OTHER: '1' } });
  await t.throwsAsync(told.generate({ minor: '1.24', input: input('a', 'b'), pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' } }), { instanceOf: OracleError });
  const aborted = new AbortController();
  aborted.abort();
  await t.throwsAsync(gen.generate({ minor: '1.24', input: input('a', 'b'), pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: 'false' }, signal: aborted.signal }), { instanceOf: InterruptedError });
});

test('goldenGeneratorForState maps every minor with goldens to one state', async (t) => {
  const gen = goldenGeneratorForState('baseline');
  const minors = goldenMinors();
  t.true(minors.length >= 4);
  for (const m of minors) t.deepEqual(await gen.availability(m), { state: 'ready' }, m);
  const outs = await Promise.all(minors.map((m) => gen.generate({ minor: m, input: input('manager-0', 'manager'), pilotEnv: {} })));
  t.is(new Set(outs.map((o) => o.record.istioModule)).size, minors.length, 'each minor answers with its own istiod');
});
