import avaTest from 'ava';
import { onLoopbackAliases } from '../../testing/loopback.ts';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { captureIo } from '../../testing/capture-io.ts';
import { main } from '../main.ts';
import { EnvironmentError } from '../../errors/index.ts';
import type { BedSpec } from '../../runner/index.ts';
import { loadIncident, reportedExpectation, incidentScenario } from '../../runner/index.ts';
import { LoopbackMesh } from '../../runner/testing/loopback-mesh.ts';
import { makeReproCommand } from './repro.ts';
import { LOOPBACK_BUDGETS } from '../../runner/testing/budgets.ts';

// Block 127.0.23.0/24 belongs to this file.
const BLOCK = 23;
// Where 127.0.BLOCK.x cannot be bound (macOS without aliases), every test here is skipped with the reason.
const test = await onLoopbackAliases(avaTest, [`127.0.${BLOCK}.1`]);
const ROOT = new URL('../../../', import.meta.url).pathname;
const SEED = join(ROOT, 'scenarios/incidents/hazelcast-externalname.yaml');

// A user's incident on podpath's own extra: manager → app's pod IP, the seed's client line (1.9+ format).
const LIVE_INCIDENT = `id: app-ext-on-app
title: manager cannot reach app on 5701
istio: { version: "1.20" }
manifests:
  - extra: app-ext-externalname
connection: { from: manager, to: app, port: 5701, protocol: tcp }
reported:
  outcome: closed-after-connect
  client: '[2026-11-20T10:00:00.000Z] "- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.30.30:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.244.2.9:5701 10.244.1.5:39000 - -'
`;

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'podpath-repro-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function command(pilotEnv: Record<string, string> = {}, fail = false) {
  return makeReproCommand({
    openBed: async (spec: BedSpec) => {
      if (fail) throw new EnvironmentError('docker: command not found');
      return LoopbackMesh.start({ block: BLOCK, istio: spec.istio, pilotEnv: { ...spec.pilotEnv, ...pilotEnv }, logDelayMs: 20 });
    },
    pipeline: LOOPBACK_BUDGETS,
    stdinIsTTY: false,
    stderrIsTTY: false,
  });
}

test('repro --offline on the seed incident: diagnosis, lint findings and the missing dump, end to end', async (t) => {
  const io = captureIo();
  t.is(await main(['repro', SEED, '--offline'], io.io), 0, io.stderr);
  t.regex(io.stdout, /outbound\|5701\|\|\s+flags UF,URX\s+\(text-1\.6\)/);
  // The reported line alone cannot confirm the capture (no addresses, no inventory); the manifests' PP001 corroborates it.
  t.regex(io.stdout, /warning pod-ip-capture-possible: .*\n.*The incident's manifests build such a listener: PP001 Service\/app\/app-ext \(.*hazelcast-externalname\.yaml#manifests\[0\]:\d+\)/);
  t.regex(io.stdout, /PP001\s+Service\/app\/app-ext/);
  t.regex(io.stdout, /the incident has no configDump/);
});

test('repro --offline --json (child process) lists diagnoses and findings', async (t) => {
  const r = await execa('npx', ['node', 'bin/podpath.ts', 'repro', 'scenarios/incidents/hazelcast-externalname.yaml', '--offline', '--json'], { cwd: ROOT, reject: false });
  t.is(r.exitCode, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { mode: string; diagnoses: Array<{ id: string }>; findings: Array<{ rule: string }> };
  t.is(out.mode, 'offline');
  t.true(out.diagnoses.some((d) => d.id === 'pod-ip-capture-possible'));
  t.true(out.findings.some((f) => f.rule === 'PP001'));
});

test('the seed incident becomes a one-off scenario expecting what was reported', async (t) => {
  const incident = await loadIncident(SEED);
  const s = incidentScenario(incident);
  t.deepEqual(s.apply, ['incident-0']);
  t.deepEqual(s.probes[0].to, { pod: 'other-manager' });
  const rule = reportedExpectation(incident);
  t.is(rule.outcome, 'closed-after-connect');
  t.deepEqual(rule.client, { cluster: 'outbound', flags: ['UF', 'URX'], name: 'outbound|5701||*' });
  t.is(rule.server, 'absent');
});

test('live repro on the double: reproduced where the collision exists, not reproduced where it does not', async (t) => {
  const dir = tmp(t);
  const file = join(dir, 'incident.yaml');
  writeFileSync(file, LIVE_INCIDENT);
  const yes = captureIo({ cwd: dir });
  t.is(await command().run({ values: { results: dir }, positionals: [file], io: yes.io, signal: new AbortController().signal }), 0, yes.stdout + yes.stderr);
  t.regex(yes.stdout, /^REPRODUCED: manager cannot reach app on 5701/m);
  t.regex(yes.stdout, /client sidecar\n\s+reported: .*UF,URX.*\n\s+observed: .*0 UF,URX .*outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local/);

  // 1.20 with the alias opted in: no listener, so the report is not reproduced.
  const no = captureIo({ cwd: dir });
  t.is(await command({ ENABLE_EXTERNAL_NAME_ALIAS: 'true' }).run({ values: { results: dir }, positionals: [file], io: no.io, signal: new AbortController().signal }), 1);
  t.regex(no.stdout, /^NOT REPRODUCED/m);
  t.regex(no.stdout, /observed: .*PassthroughCluster/);
  t.regex(no.stdout, /differences:\n\s+- expected outcome closed-after-connect, saw echoed/);
});

test('without a reachable bed, repro says so and diagnoses offline', async (t) => {
  const dir = tmp(t);
  const io = captureIo({ cwd: dir });
  t.is(await command({}, true).run({ values: { results: dir }, positionals: [SEED], io: io.io, signal: new AbortController().signal }), 0);
  t.regex(io.stdout, /no cluster reachable \(bed [^:]+: docker: command not found\); diagnosing offline instead/);
  // The reported line alone cannot confirm the capture (no addresses, no inventory): a lead, beside PP001's finding.
  t.regex(io.stdout, /pod-ip-capture-possible/);
});

test('bad incident files are usage errors that name the field', async (t) => {
  const dir = tmp(t);
  const cases: Array<[string, RegExp]> = [
    ['istio: { version: "1.20" }\nconnection: { from: "No Body!", to: app, port: 5701 }\n', /connection\.from must be a bed workload \(manager, app, idle\) or NAMESPACE\/POD/],
    ['istio: { version: "1.20" }\nconnection: { from: manager, to: app, port: 99999 }\n', /connection\.port must be a port number/],
    ['connection: { from: manager, to: app, port: 5701 }\n', /istio must be a mapping/],
    ['istio: { version: "1.20" }\nmanifests: [{ path: missing.yaml }]\nconnection: { from: manager, to: app, port: 5701 }\n', /manifests\[0\]\.path: cannot read/],
    ['a: [', /not valid YAML/],
  ];
  for (const [text, message] of cases) {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, text);
    const io = captureIo();
    t.is(await main(['repro', file, '--offline'], io.io), 2, text);
    t.regex(io.stderr, message);
  }
  const none = captureIo();
  t.is(await main(['repro'], none.io), 2);
  t.regex(none.stderr, /repro needs exactly one INCIDENT\.yaml/);
});

test('podpath\'s own one-line messages: a missing incident file, several YAML documents', async (t) => {
  const dir = tmp(t);
  const missing = captureIo();
  t.is(await main(['repro', join(dir, 'nope.yaml'), '--offline'], missing.io), 2);
  t.regex(missing.stderr, /repro: .*nope\.yaml: no such file/);
  t.notRegex(missing.stderr, /ENOENT/);
  const multi = join(dir, 'multi.yaml');
  writeFileSync(multi, 'istio: { version: "1.20" }\n---\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n');
  const io = captureIo();
  t.is(await main(['repro', multi, '--offline'], io.io), 2);
  t.regex(io.stderr, /holds 2 YAML documents; an incident file is one/);
  t.notRegex(io.stderr, /parseAllDocuments|YAML\.parse/);
});

test('--offline takes a connection from any NAMESPACE/POD, or none; live repro asks for a bed workload', async (t) => {
  const dir = tmp(t);
  const client = '[2026-11-20T10:00:00.000Z] "- - -" 0 UF,URX - - "-" 0 0 1000 - "-" "-" "-" "-" "10.96.30.30:5701" outbound|5701||app-ext.app.svc.cluster.local - 10.244.2.9:5701 10.244.1.5:39000 - -';
  for (const from of ['from: payments/api-7d9f8-x2x4q, ', '']) {
    const file = join(dir, 'other.yaml');
    writeFileSync(file, `istio: { version: "1.20" }\nconnection: { ${from}to: app, port: 5701 }\nreported:\n  client: '${client}'\n`);
    const io = captureIo();
    t.is(await main(['repro', file, '--offline'], io.io), 0, from || 'no from');
    t.regex(io.stdout, /upstream-connect-failed|pod-ip-capture-possible/);
    const incident = await loadIncident(file);
    t.throws(() => incidentScenario(incident), { message: /is not one of the bed's workloads/ });
  }
});

const OFFLINE_INCIDENT = (manifests: string, extra = '') => `id: confined
istio: { version: "1.20" }
manifests:
${manifests}
connection: { from: manager, to: app, port: 5701 }
${extra}`;

test('repro reads only its own folder: ../, absolute paths and symlinks out are refused; --allow-files-under widens it', async (t) => {
  const dir = tmp(t);
  const secret = 'apiVersion: v1\nkind: Service\nmetadata: { name: s3cr3t-hunter2 }\n';
  writeFileSync(join(dir, 'secret.yaml'), secret);
  mkdirSync(join(dir, 'sub'));
  symlinkSync(join(dir, 'secret.yaml'), join(dir, 'sub', 'link.yaml'));
  writeFileSync(join(dir, 'sub', 'ok.yaml'), secret.replace('s3cr3t-hunter2', 'beside'));
  const cases: Array<[string, RegExp]> = [
    ['  - path: ../secret.yaml', /manifests\[0\]\.path: \.\.\/secret\.yaml is outside the incident's folder/],
    [`  - path: ${join(dir, 'secret.yaml')}`, /is outside the incident's folder/],
    ['  - path: /etc/passwd', /manifests\[0\]\.path: \/etc\/passwd is outside the incident's folder/],
    ['  - path: link.yaml', /link\.yaml is outside the incident's folder/],
    ['  - extra: ../../../etc/passwd', /no extra named "\.\.\/\.\.\/\.\.\/etc\/passwd"/],
  ];
  for (const [manifests, message] of cases) {
    writeFileSync(join(dir, 'sub', 'incident.yaml'), OFFLINE_INCIDENT(manifests));
    const io = captureIo();
    t.is(await main(['repro', join(dir, 'sub', 'incident.yaml'), '--offline'], io.io), 2, manifests);
    t.regex(io.stderr, message);
    t.notRegex(io.stdout + io.stderr, /s3cr3t-hunter2|root:/);
  }
  writeFileSync(join(dir, 'sub', 'incident.yaml'), OFFLINE_INCIDENT('  - path: ok.yaml', 'configDump: { path: ../secret.yaml }'));
  const dump = captureIo();
  t.is(await main(['repro', join(dir, 'sub', 'incident.yaml'), '--offline'], dump.io), 2);
  t.regex(dump.stderr, /configDump\.path: \.\.\/secret\.yaml is outside the incident's folder/);
  writeFileSync(join(dir, 'sub', 'incident.yaml'), OFFLINE_INCIDENT('  - path: ok.yaml\n  - path: ../secret.yaml'));
  const widened = captureIo();
  t.is(await main(['repro', join(dir, 'sub', 'incident.yaml'), '--offline', '--allow-files-under', dir], widened.io), 0, widened.stderr);
});

test('a live repro applies only mesh kinds, and an alias bomb in an inline manifest is refused with podpath\'s message', async (t) => {
  const dir = tmp(t);
  const binding = '  - inline: |\n      apiVersion: rbac.authorization.k8s.io/v1\n      kind: ClusterRoleBinding\n      metadata: { name: pwn }\n      roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }\n';
  writeFileSync(join(dir, 'incident.yaml'), OFFLINE_INCIDENT(binding));
  const kind = captureIo();
  t.is(await main(['repro', join(dir, 'incident.yaml')], kind.io), 2);
  t.regex(kind.stderr, /a live repro does not apply kind ClusterRoleBinding/);
  const levels = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)];
  const bomb = `  - inline: |\n      apiVersion: v1\n      kind: Service\n      metadata: { name: lol }\n      spec:\n${levels.map((l) => `        ${l}`).join('\n')}\n`;
  writeFileSync(join(dir, 'incident.yaml'), OFFLINE_INCIDENT(bomb));
  const laughs = captureIo();
  t.is(await main(['repro', join(dir, 'incident.yaml')], laughs.io), 2);
  t.regex(laughs.stderr, /YAML aliases expand too far/);
  t.notRegex(laughs.stderr, /internal error|at /);
});

test('configDump.path is read under a cap: a dump (or a gzip bomb) over --max-dump-size is refused, naming the cap', async (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'ok.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: beside }\n');
  writeFileSync(join(dir, 'dump.json'), JSON.stringify({ configs: [], padding: 'x'.repeat(4096) }));
  // 8 MiB of zeros gzip to a few KiB: only the decompressed size can trip the cap.
  writeFileSync(join(dir, 'bomb.json.gz'), gzipSync(Buffer.alloc(8 << 20)));
  for (const [file, message] of [['dump.json', /configDump\.path dump\.json is too large: it is 41\d\d bytes, more than the 1 KiB cap \(--max-dump-size\)/], ['bomb.json.gz', /configDump\.path bomb\.json\.gz is too large: it decompresses to more than the 1 MiB cap/]] as const) {
    writeFileSync(join(dir, 'incident.yaml'), OFFLINE_INCIDENT('  - path: ok.yaml', `configDump: { path: ${file} }`));
    const io = captureIo();
    t.is(await main(['repro', join(dir, 'incident.yaml'), '--offline', '--max-dump-size', file === 'dump.json' ? '1K' : '1M'], io.io), 2, file);
    t.regex(io.stderr, message, file);
    t.notRegex(io.stderr, /internal error|\n\s+at /);
  }
  writeFileSync(join(dir, 'incident.yaml'), OFFLINE_INCIDENT('  - path: ok.yaml', 'configDump: { path: dump.json }'));
  const fine = captureIo();
  t.is(await main(['repro', join(dir, 'incident.yaml'), '--offline'], fine.io), 0, fine.stderr);
});

test('repro --offline adds what the incident\'s istiod would build when that minor can be generated, and says why not otherwise', async (t) => {
  const { goldenGenerator } = await import('../../oracle/testing/golden-generator.ts');
  const dir = tmp(t);
  const file = join(dir, 'incident.yaml');
  // The seed's collision on podpath's bed, reported on 1.20 with the flag off: the bed state the goldens hold.
  writeFileSync(file, `id: seed-on-120\ntitle: t\nistio: { version: "1.20.4", pilotEnv: { ENABLE_EXTERNAL_NAME_ALIAS: "false" } }\nmesh: { connectTimeout: 1s }\nmanifests:\n  - extra: app-ext-externalname\nconnection: { from: manager, to: other-manager, port: 5701, protocol: tcp }\n`);
  const cmd = makeReproCommand({ predictGenerator: () => goldenGenerator() });
  const io = captureIo();
  t.is(await cmd.run({ values: { offline: true }, positionals: [file], io: io.io, signal: new AbortController().signal }), 0, io.stderr);
  t.regex(io.stdout, /What istiod 1\.20 would build \(podpath predict\)/);
  t.regex(io.stdout, /manager\/manager \(pod manager-0, 10\.244\.0\.11\) → 10\.244\.0\.12:5701 \(pod manager-1 on the bed\)/);
  t.regex(io.stdout, /istiod 1\.20: captured via listener 0\.0\.0\.0_5701, chain #0, cluster outbound\|5701\|\|app-ext\.app\.svc\.cluster\.local/);
  t.regex(io.stdout, /would log: 0 UF,URX outbound\|5701\|\|app-ext/);
  const json = captureIo();
  t.is(await cmd.run({ values: { offline: true, json: true }, positionals: [file], io: json.io, signal: new AbortController().signal }), 0);
  t.like(JSON.parse(json.stdout).predict, { minor: '1.20', predicted: true, verdict: 'captured', evidence: { flags: ['UF', 'URX'] } });

  // The seed itself names 1.6: no istiod oracle for it, and the report says so.
  const seed = captureIo();
  t.is(await cmd.run({ values: { offline: true }, positionals: [SEED], io: seed.io, signal: new AbortController().signal }), 0);
  t.regex(seed.stdout, /not predicted: Istio 1\.6 is not a minor the istiod oracle covers \(1\.20–1\.30\)/);
  // A minor the generator cannot do here.
  writeFileSync(file, `id: x\ntitle: t\nistio: { version: "1.22" }\nconnection: { from: manager, to: other-manager, port: 5701 }\n`);
  const later = captureIo();
  t.is(await cmd.run({ values: { offline: true }, positionals: [file], io: later.io, signal: new AbortController().signal }), 0);
  t.regex(later.stdout, /not predicted: istiod 1\.22 cannot be generated here: the Go module proxy answers 403/);
});
