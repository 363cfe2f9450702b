/** The runner's acceptance of an agent's answer: exactly `count` results with documented outcomes. */
import test from 'ava';
import { checkProbeAnswer, ProbeAnswerError, type ProbeRequest, type ProbeResult } from './index.ts';

const request: ProbeRequest = { target: '10.244.0.7:5701', protocol: 'tcp', timeoutMs: 1000, count: 2 };
const result = (outcome: string): ProbeResult => ({
  target: request.target, protocol: 'tcp', outcome: outcome as ProbeResult['outcome'], localAddress: '10.244.0.6:40000', remoteAddress: request.target,
  connectMs: 1, firstByteMs: 1, totalMs: 2, bytesSent: 4, bytesReceived: 4,
});

test('count results with documented outcomes are accepted as they are', (t) => {
  const answer = [result('echoed'), result('closed-after-connect')];
  t.is(checkProbeAnswer(request, answer, 'manager/m-1'), answer);
  t.deepEqual(checkProbeAnswer({ ...request, count: undefined }, [result('refused')], 'manager/m-1').map((r) => r.outcome), ['refused']);
});

test('an empty answer, too few or too many results are harness errors', (t) => {
  t.throws(() => checkProbeAnswer(request, [], 'manager/m-1'), { instanceOf: ProbeAnswerError, message: /with 0 results for 2 connections/ });
  t.throws(() => checkProbeAnswer(request, [result('echoed')], 'manager/m-1'), { instanceOf: ProbeAnswerError, message: /with 1 result for 2 connections/ });
  t.throws(() => checkProbeAnswer({ ...request, count: 1 }, [result('echoed'), result('echoed')], 'manager/m-1'), { instanceOf: ProbeAnswerError });
  t.throws(() => checkProbeAnswer(request, { results: [] }, 'manager/m-1'), { instanceOf: ProbeAnswerError, message: /without a result list/ });
});

test('an outcome outside the documented set, or a malformed result, is a harness error', (t) => {
  t.throws(() => checkProbeAnswer(request, [result('echoed'), result('passed')], 'manager/m-1'), { instanceOf: ProbeAnswerError, message: /result 2 .* outcome "passed", not one of echoed, answered/ });
  t.throws(() => checkProbeAnswer(request, [result('echoed'), null], 'manager/m-1'), { instanceOf: ProbeAnswerError, message: /not an object/ });
  t.throws(() => checkProbeAnswer(request, [result('echoed'), { ...result('echoed'), localAddress: 5 }], 'manager/m-1'), { instanceOf: ProbeAnswerError, message: /localAddress/ });
  t.throws(() => checkProbeAnswer(request, [result('echoed'), { ...result('echoed'), protocol: 'http' }], 'manager/m-1'), { instanceOf: ProbeAnswerError, message: /http result for a tcp probe/ });
});
