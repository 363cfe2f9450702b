/**
 * RunReport fixtures for tests (not shipped in any output). Log lines follow the Istio >= 1.9
 * TEXT access-log format (istio/istio pilot/pkg/model/telemetry_logging.go EnvoyTextLogFormat), as a
 * sidecar prints them for TCP connections.
 */
import type { ObservedPath, PathSide, ProbeReport, RunReport, ScenarioReport, TargetReport } from '../schema.ts';
import { countStatuses } from '../format.ts';

export const CLIENT_PASSTHROUGH_LINE =
  '[2026-11-23T10:15:01.120Z] "- - -" 0 - - - "-" 5 5 3 - "-" "-" "-" "-" "10.244.1.8:5701" PassthroughCluster 10.244.1.7:52814 10.244.1.8:5701 10.244.1.7:41234 - -';
export const SERVER_INBOUND_LINE =
  '[2026-11-23T10:15:01.121Z] "- - -" 0 - - - "-" 5 5 2 - "-" "-" "-" "-" "10.244.1.8:5701" inbound|5701|| 127.0.0.6:40119 10.244.1.8:5701 10.244.1.7:52814 - -';
export const CLIENT_UF_URX_LINE =
  '[2026-11-23T10:15:02.001Z] "- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.44.12:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.244.1.8:5701 10.244.1.7:41236 - -';

export function passthroughClient(): PathSide {
  return { cluster: 'PassthroughCluster', clusterKind: 'passthrough', flags: [], responseCode: 0, responseCodeDetails: null, line: CLIENT_PASSTHROUGH_LINE };
}
export function inboundServer(): PathSide {
  return { cluster: 'inbound|5701||', clusterKind: 'inbound', flags: [], responseCode: 0, responseCodeDetails: null, line: SERVER_INBOUND_LINE };
}
export function ufUrxClient(): PathSide {
  return {
    cluster: 'outbound|5701||app-ext.app.svc.cluster.local',
    clusterKind: 'outbound',
    flags: ['UF', 'URX'],
    responseCode: 0,
    responseCodeDetails: null,
    line: CLIENT_UF_URX_LINE,
  };
}

export function echoedPath(): ObservedPath {
  return { outcome: 'echoed', responder: 'manager/manager-7948dffbdd-p44xx', httpStatus: null, localAddress: '10.244.1.7:41234', client: passthroughClient(), server: inboundServer() };
}
export function collisionPath(): ObservedPath {
  return { outcome: 'closed-after-connect', responder: null, httpStatus: null, localAddress: '10.244.1.7:41236', client: ufUrxClient(), server: null };
}

export function probe(overrides: Partial<ProbeReport> = {}): ProbeReport {
  return {
    name: 'pod-ip-5701',
    from: { workload: 'manager', pod: 'manager-c844dbb5f-ng5d5', ip: '10.244.1.7' },
    to: { target: '10.244.1.8', pod: 'manager-7948dffbdd-p44xx', port: 5701, protocol: 'tcp' },
    expected: {
      outcome: 'echoed',
      responder: 'manager/manager-7948dffbdd-p44xx',
      client: { clusterKind: 'passthrough', cluster: 'PassthroughCluster', flags: [] },
      server: { clusterKind: 'inbound', cluster: 'inbound|5701||', flags: [] },
      explain: 'passthrough',
      observeOnly: false,
    },
    observed: [echoedPath()],
    prediction: { verdict: 'passthrough', steps: ['no listener 10.244.1.8_5701', 'no listener 0.0.0.0_5701', 'virtualOutbound → PassthroughCluster'] },
    verdict: 'pass',
    mismatches: [],
    ...overrides,
  };
}

export function failingProbe(): ProbeReport {
  return probe({
    observed: [collisionPath()],
    prediction: { verdict: 'captured', steps: ['listener 0.0.0.0_5701', 'filter chain 0 (catch-all)', 'cluster outbound|5701||app-ext.app.svc.cluster.local'] },
    verdict: 'fail',
    mismatches: [
      'outcome: expected echoed, saw closed-after-connect',
      'client cluster: expected PassthroughCluster, saw outbound|5701||app-ext.app.svc.cluster.local with flags UF,URX',
      'server entry: expected inbound|5701||, saw none (connection ended in the client sidecar)',
    ],
  });
}

export function scenario(overrides: Partial<ScenarioReport> = {}): ScenarioReport {
  return {
    id: 'tcp-pod-ip-baseline',
    title: 'TCP to another pod IP on 5701 goes through PassthroughCluster',
    seed: 'hazelcast-externalname',
    status: 'passed',
    skipReason: null,
    attempts: [{ attempt: 1, status: 'passed' }],
    timings: { apply: 0, converge: 120, probe: 40, logs: 30, cleanup: 0, total: 210 },
    probes: [probe()],
    evidence: [],
    error: null,
    ...overrides,
  };
}

export function failingScenario(): ScenarioReport {
  return scenario({
    id: 'externalname-5701-collision',
    title: 'ExternalName Service with port 5701 captures pod-IP traffic',
    status: 'failed',
    attempts: [{ attempt: 1, status: 'failed' }],
    timings: { apply: 300, converge: 1500, probe: 1040, logs: 60, evidence: 200, cleanup: 400, total: 3500 },
    probes: [failingProbe()],
    evidence: ['evidence/istio-1.20.8/externalname-5701-collision/client-sidecar.log', 'evidence/istio-1.20.8/externalname-5701-collision/events.txt'],
  });
}

export function skippedScenario(): ScenarioReport {
  return scenario({
    id: 'serviceentry-dns-5701-collision',
    title: 'ServiceEntry resolution DNS on 5701 captures pod-IP traffic',
    status: 'skipped',
    skipReason: 'applies to istio >=1.24; this target is 1.20.8',
    attempts: [],
    timings: { total: 0 },
    probes: [],
  });
}

export function flakyScenario(): ScenarioReport {
  return scenario({
    id: 'fix-sidecar-egress',
    title: 'Sidecar egress hosts restore the baseline',
    status: 'flaky',
    attempts: [
      { attempt: 1, status: 'passed' },
      { attempt: 2, status: 'failed' },
    ],
  });
}

export function observedScenario(): ScenarioReport {
  return scenario({
    id: 'serviceentry-dns-5701-collision',
    title: 'ServiceEntry resolution DNS on 5701 captures pod-IP traffic',
    status: 'observed',
    attempts: [{ attempt: 1, status: 'observed' }],
    probes: [probe({ verdict: 'observe', observed: [collisionPath()], expected: { ...probe().expected, observeOnly: true } })],
  });
}

export function target(version: string, scenarios: ScenarioReport[], overrides: Partial<TargetReport> = {}): TargetReport {
  return {
    istio: { version, pilotEnv: {}, meshConfig: { connectTimeout: '1s', accessLogEncoding: 'TEXT' } },
    kubernetes: '1.32.2',
    cluster: `podpath-${version.replaceAll('.', '-')}`,
    scenarios,
    totals: countStatuses(scenarios),
    ...overrides,
  };
}

export function report(targets: TargetReport[], overrides: Partial<RunReport['run']> = {}): RunReport {
  const all = targets.flatMap((t) => t.scenarios);
  return {
    schemaVersion: 1,
    run: {
      id: '20261123T101500.000Z-3f9a',
      startedAt: '2026-11-23T10:15:00.000Z',
      finishedAt: '2026-11-23T10:16:30.000Z',
      podpathVersion: '0.1.0',
      argv: ['run', '--istio', targets.map((t) => t.istio.version).join(',')],
      dryRun: false,
      interrupted: false,
      ...overrides,
    },
    targets,
    totals: countStatuses(all),
  };
}

/** A two-version matrix with every status: the reference fixture most renderer tests use. */
export function matrixReport(): RunReport {
  return report([
    target('1.20.8', [scenario(), failingScenario(), skippedScenario(), flakyScenario()]),
    target('1.24.3', [scenario(), scenario({ id: 'externalname-5701-collision', title: 'ExternalName Service with port 5701 captures pod-IP traffic' }), observedScenario()]),
  ]);
}
