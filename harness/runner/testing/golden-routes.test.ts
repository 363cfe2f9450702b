import test from 'ava';
import { goldenRoute } from './golden-routes.ts';
import { goldenMinors } from '../../../oracle/goldens.ts';
import { TCP_PORT } from '../../../manifests/topology.ts';

const minor = goldenMinors()[0];

test('the double routes by explain on the istiod golden of its state', (t) => {
  if (!minor) {
    t.pass('no goldens committed');
    return;
  }
  const base = { istio: `${minor}.0`, pilotEnv: {}, client: 'manager', target: { workload: 'app', replica: 0 }, port: TCP_PORT, protocol: 'tcp' } as const;
  const baseline = goldenRoute({ ...base, applied: [] });
  t.truthy(baseline, `a golden for ${minor}/baseline`);
  t.is(baseline!.explanation.verdict, 'passthrough');
  t.deepEqual(baseline!.upstream, { workload: 'app', replica: 0 });
  t.is(baseline!.source, `oracle/goldens/${minor}/baseline/manager`);
  // The ServiceEntry state decides differently from the baseline: the golden, not a default, answers.
  const se = goldenRoute({ ...base, applied: ['serviceentry-dns-5701'] });
  t.truthy(se);
  t.not(se!.explanation.cluster?.name, undefined);
  t.is(goldenRoute({ ...base, applied: ['no-such-extra'] }), null, 'no golden for the state: the double falls back');
  t.is(goldenRoute({ ...base, istio: '0.9.1', applied: [] }), null, 'no golden for the minor');
});
