import test from 'ava';
import { ApiException } from '@kubernetes/client-node';
import { KubeError, httpStatusOf, networkCode, statusOf, toKubeError } from './errors.ts';
import { PodpathError } from '../errors/index.ts';

// Status bodies as the API server writes them (meta/v1 Status).
const status = (code: number, reason: string, message: string) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

test('statusOf reads a Status body, a parsed one, plain text and nothing', (t) => {
  t.deepEqual(statusOf(status(404, 'NotFound', 'pods "x" not found')), { reason: 'NotFound', message: 'pods "x" not found' });
  t.deepEqual(statusOf({ reason: 'Conflict', message: 'm' }), { reason: 'Conflict', message: 'm' });
  t.deepEqual(statusOf('Error trying to reach service: dial tcp 10.244.0.8:15999: connect: connection refused'), { reason: null, message: 'Error trying to reach service: dial tcp 10.244.0.8:15999: connect: connection refused' });
  t.deepEqual(statusOf(undefined), { reason: null, message: null });
});

test('toKubeError: each status gets the hint that says what to do', (t) => {
  const cases: Array<[number, string, RegExp]> = [
    [401, 'Unauthorized', /podpath status --name NAME` rewrites its own kubeconfig/],
    [403, 'Forbidden', /RBAC/],
    [404, 'NotFound', /CRD installed/],
    [409, 'Conflict', /retry/],
    [422, 'Invalid', /podpath lint/],
    [503, 'ServiceUnavailable', /podpath status/],
  ];
  for (const [code, reason, hint] of cases) {
    const error = toKubeError({ code, body: status(code, reason, 'detail') }, 'apply Service/app/app-ext');
    t.true(error instanceof PodpathError);
    t.is(error.statusCode, code);
    t.is(error.reason, reason);
    t.is(error.shortMessage, `apply Service/app/app-ext failed with HTTP ${code} ${reason}: detail`);
    t.regex(error.hint ?? '', hint, `${code}`);
    t.is(error.exitCode, 2);
  }
});

test('toKubeError: a refused connection deep in a cause chain is "is the cluster up?"', (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  const fetchError = new TypeError('fetch failed', { cause: refused });
  t.is(networkCode(fetchError), 'ECONNREFUSED');
  const error = toKubeError(fetchError, 'list pods in app');
  t.is(error.statusCode, null);
  t.is(error.reason, 'ECONNREFUSED');
  t.is(error.shortMessage, 'cannot reach the Kubernetes API server to list pods in app (ECONNREFUSED)');
  t.regex(error.hint ?? '', /Is the cluster up\?/);
});

test('toKubeError keeps a KubeError as it is', (t) => {
  const original = new KubeError('x', { statusCode: 409 });
  t.is(toKubeError(original, 'y'), original);
});

test('httpStatusOf: the status of client-node ApiException (code) and Watch errors (statusCode)', (t) => {
  for (const code of [404, 409, 500]) {
    t.is(httpStatusOf(new ApiException(code, 'm', status(code, 'R', 'detail'), {})), code, `ApiException ${code}`);
    // client-node's Watch throws a plain Error with statusCode for a non-200 answer.
    t.is(httpStatusOf(Object.assign(new Error('Not Found'), { statusCode: code })), code, `Watch ${code}`);
  }
  t.is(httpStatusOf({ code: 410, body: {} }), 410, 'a watch ERROR event Status');
});

test('httpStatusOf: an abort or timeout is no HTTP status, whatever its legacy numeric code', (t) => {
  // What client-node's Watch hands `done` when its 30 s inactivity timer fires: code 23.
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  t.is(timeout.code, 23, 'the trap: a numeric code');
  t.is(httpStatusOf(timeout), null);
  const abort = new DOMException('This operation was aborted', 'AbortError');
  t.is(abort.code, 20);
  t.is(httpStatusOf(abort), null);
  t.is(httpStatusOf(Object.assign(new Error('aborted'), { name: 'AbortError', code: 404 })), null, 'an Error named AbortError is never a status');
  t.is(httpStatusOf({ code: 23 }), null, 'outside 100-599');
  const error = toKubeError(timeout, 'wait for the rollout of app/app');
  t.is(error.statusCode, null);
  t.notRegex(error.shortMessage, /HTTP/);
});

test('httpStatusOf: a refused connection has no status', (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED', errno: -111 });
  t.is(httpStatusOf(refused), null);
  t.is(httpStatusOf(new TypeError('fetch failed', { cause: refused })), null);
  t.is(httpStatusOf(null), null);
});
