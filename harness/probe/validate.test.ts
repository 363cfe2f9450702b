/** Probe request validation and target parsing, pure. */
import test from 'ava';
import fc from 'fast-check';
import { LIMITS, parseTarget, ProbeRequestError, validateProbeRequest } from './contract.ts';

test('a minimal request is normalised with count 1', (t) => {
  t.deepEqual(validateProbeRequest({ target: '10.244.0.5:5701', protocol: 'tcp', timeoutMs: 3000 }), {
    target: '10.244.0.5:5701', protocol: 'tcp', timeoutMs: 3000, count: 1,
  });
});

test('a full http request keeps every field', (t) => {
  const body = { target: 'app.app.svc.cluster.local:8080', protocol: 'http', timeoutMs: 1, payload: '', httpPath: '/a/b?c=d', httpHost: 'app:8080', count: 100 };
  t.deepEqual(validateProbeRequest(body), body);
});

test('targets: IPv4, names, bracketed IPv6; not bare v6, not out-of-range ports', (t) => {
  t.deepEqual(parseTarget('10.0.0.1:1'), { host: '10.0.0.1', port: 1 });
  t.deepEqual(parseTarget('[fd00::5]:65535'), { host: 'fd00::5', port: 65535 });
  t.deepEqual(parseTarget('manager-0.manager-headless.manager.svc.cluster.local:5701'), { host: 'manager-0.manager-headless.manager.svc.cluster.local', port: 5701 });
  for (const bad of ['10.0.0.1', '10.0.0.1:0', '10.0.0.1:65536', '10.0.0.1:99999', 'fd00::5:80', '[nothex]:80', ':80', 'a b:80', '999.1.1.1:80', '10.0.0.1:80 ', 'host:-1', 'host:+80']) {
    t.throws(() => parseTarget(bad), { instanceOf: ProbeRequestError }, bad);
  }
});

test('limits are enforced at their edges', (t) => {
  const base = { target: '10.0.0.1:80', protocol: 'tcp' };
  t.notThrows(() => validateProbeRequest({ ...base, timeoutMs: LIMITS.maxTimeoutMs }));
  t.notThrows(() => validateProbeRequest({ ...base, timeoutMs: LIMITS.maxRequestBudgetMs / LIMITS.maxCount, count: LIMITS.maxCount }));
  t.throws(() => validateProbeRequest({ ...base, timeoutMs: LIMITS.maxRequestBudgetMs / LIMITS.maxCount + 1, count: LIMITS.maxCount }), { message: /count × timeoutMs/ });
  t.throws(() => validateProbeRequest({ ...base, timeoutMs: LIMITS.maxTimeoutMs + 1 }), { message: /timeoutMs/ });
  t.throws(() => validateProbeRequest({ ...base, timeoutMs: 1.5 }), { message: /timeoutMs/ });
  t.throws(() => validateProbeRequest({ ...base }), { message: /timeoutMs is required/ });
  t.throws(() => validateProbeRequest({ ...base, timeoutMs: 10, count: LIMITS.maxCount + 1 }), { message: /count/ });
  t.throws(() => validateProbeRequest({ ...base, timeoutMs: 10, payload: '' }), { message: /must not be empty/ });
  t.throws(() => validateProbeRequest({ ...base, timeoutMs: 10, payload: 'é'.repeat(LIMITS.maxPayloadBytes / 2 + 1) }), { message: /larger than/ }, 'bytes, not characters');
  t.throws(() => validateProbeRequest({ ...base, protocol: 'http', timeoutMs: 10, httpPath: 'no-slash' }), { message: /httpPath/ });
  t.throws(() => validateProbeRequest({ ...base, protocol: 'http', timeoutMs: 10, httpPath: '/a b' }), { message: /httpPath/ });
  t.throws(() => validateProbeRequest({ ...base, protocol: 'http', timeoutMs: 10, httpHost: 'evil\r\nx: y' }), { message: /httpHost/ });
  t.throws(() => validateProbeRequest({ ...base, timeoutMs: 10, httpHost: 'h' }), { message: /only valid with protocol "http"/ });
});

test('any JSON value either validates or throws ProbeRequestError, never anything else', (t) => {
  const known = fc.record(
    {
      target: fc.oneof(fc.string(), fc.constant('10.0.0.1:5701'), fc.integer()),
      protocol: fc.oneof(fc.constantFrom('tcp', 'http', 'udp'), fc.jsonValue()),
      timeoutMs: fc.oneof(fc.integer({ min: -5, max: 200_000 }), fc.double(), fc.string()),
      payload: fc.oneof(fc.string(), fc.jsonValue()),
      httpPath: fc.string(),
      httpHost: fc.string(),
      count: fc.oneof(fc.integer({ min: -1, max: 200 }), fc.jsonValue()),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(fc.oneof(fc.jsonValue(), known), (body) => {
      try {
        const ok = validateProbeRequest(body);
        return ok.timeoutMs >= 1 && ok.timeoutMs <= LIMITS.maxTimeoutMs && (ok.count ?? 0) >= 1 && (ok.count ?? 0) <= LIMITS.maxCount;
      } catch (error) {
        return error instanceof ProbeRequestError && error.message.length > 0;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});
