/**
 * The upgrade-validation view: what changed between two runs, per scenario probe.
 * Rows are keyed by scenario id + probe name; targets pair up by identical Istio version
 * first, then the remaining ones in version order (so a 1.29 run compares with a 1.30 run).
 */
import type { ObservedPath, ProbeReport, RunReport, ScenarioReport, TargetReport } from './schema.ts';
import { envSuffix, formatSide, versionLabel } from './format.ts';
import { expectedPathName, observedPathName } from './paths.ts';

export type DiffKind = 'regression' | 'fix' | 'changed' | 'added' | 'removed' | 'skipped';

/** What a probe looked like in one run, reduced to the things diff compares. */
export interface ProbeSnapshot {
  istio: string;
  /** 'skipped' when the scenario did not run on that target. */
  verdict: 'pass' | 'fail' | 'observe' | 'skipped';
  scenarioStatus: ScenarioReport['status'];
  /** Distinct observed outcomes, e.g. ["closed-after-connect"]. */
  outcomes: string[];
  responders: string[];
  /** Distinct client sides as "FLAGS CLUSTER", "absent" for no entry. */
  client: string[];
  server: string[];
  /** The path the probe's expectation names (paths.ts), null for a scenario-level row. */
  expectedPath: string | null;
  /** Distinct observed path names, e.g. ["captured(app-ext.app.svc.cluster.local)"]. */
  paths: string[];
  skipReason: string | null;
}

export interface DiffEntry {
  kind: DiffKind;
  scenario: string;
  /** null for a scenario-level row (e.g. a scenario with no probes, or skipped). */
  probe: string | null;
  before: ProbeSnapshot | null;
  after: ProbeSnapshot | null;
  /** Human lines, e.g. "client - PassthroughCluster → UF,URX outbound|5701||app-ext.app.svc.cluster.local". */
  changes: string[];
}

export interface ReportDiff {
  a: { id: string; versions: string[] };
  b: { id: string; versions: string[] };
  /** Which target of A was compared with which target of B. */
  pairs: { a: string | null; b: string | null }[];
  entries: DiffEntry[];
  counts: Record<DiffKind, number> & { unchanged: number };
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function snapshot(target: TargetReport, scenario: ScenarioReport, probe: ProbeReport | null): ProbeSnapshot {
  const observed: ObservedPath[] = probe?.observed ?? [];
  const verdict: ProbeSnapshot['verdict'] =
    scenario.status === 'skipped' ? 'skipped' : probe ? probe.verdict : scenario.status === 'failed' ? 'fail' : scenario.status === 'observed' ? 'observe' : 'pass';
  return {
    istio: versionLabel(target),
    verdict,
    scenarioStatus: scenario.status,
    outcomes: distinct(observed.map((o) => o.outcome + (o.httpStatus !== null ? ` HTTP ${o.httpStatus}` : ''))),
    responders: distinct(observed.map((o) => o.responder ?? 'nobody')),
    client: distinct(observed.map((o) => formatSide(o.client))),
    server: distinct(observed.map((o) => formatSide(o.server))),
    expectedPath: probe ? expectedPathName(probe.expected) : null,
    paths: distinct(observed.map(observedPathName)),
    skipReason: scenario.skipReason,
  };
}

type Row = { scenario: string; probe: string | null; snap: ProbeSnapshot };
type Rows = Map<string, Row>;

function rows(target: TargetReport | null): Rows {
  const out: Rows = new Map();
  if (!target) return out;
  for (const scenario of target.scenarios) {
    if (scenario.probes.length === 0 || scenario.status === 'skipped') {
      out.set(`${scenario.id}\u0000`, { scenario: scenario.id, probe: null, snap: snapshot(target, scenario, null) });
      continue;
    }
    for (const probe of scenario.probes) out.set(`${scenario.id}\u0000${probe.name}`, { scenario: scenario.id, probe: probe.name, snap: snapshot(target, scenario, probe) });
  }
  return out;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (Number.isNaN(pa[i]) ? 0 : (pa[i] ?? 0)) - (Number.isNaN(pb[i]) ? 0 : (pb[i] ?? 0));
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

/** Same version with same version; the rest in version order; leftovers compare with nothing. */
export function pairTargets(a: RunReport, b: RunReport): [TargetReport | null, TargetReport | null][] {
  const restA = [...a.targets];
  const restB = [...b.targets];
  const pairs: [TargetReport | null, TargetReport | null][] = [];
  for (const ta of a.targets) {
    const i = restB.findIndex((tb) => versionLabel(tb) === versionLabel(ta));
    if (i >= 0) {
      pairs.push([ta, restB[i]]);
      restB.splice(i, 1);
      restA.splice(restA.indexOf(ta), 1);
    }
  }
  // Version order, then env, so a plain bed pairs with a plain bed and an env bed with its like.
  const order = (x: TargetReport, y: TargetReport) => compareVersions(x.istio.version, y.istio.version) || envSuffix(x.istio.pilotEnv ?? {}).localeCompare(envSuffix(y.istio.pilotEnv ?? {}));
  restA.sort(order);
  restB.sort(order);
  for (let i = 0; i < Math.max(restA.length, restB.length); i++) pairs.push([restA[i] ?? null, restB[i] ?? null]);
  return pairs;
}

function list(values: string[]): string {
  return values.length ? values.join(' | ') : 'nothing observed';
}

function changeLines(before: ProbeSnapshot, after: ProbeSnapshot): string[] {
  const lines: string[] = [];
  if (before.verdict !== after.verdict) lines.push(`verdict ${before.verdict} → ${after.verdict}`);
  else if (before.scenarioStatus !== after.scenarioStatus) lines.push(`status ${before.scenarioStatus} → ${after.scenarioStatus}`);
  if (before.verdict === 'skipped' || after.verdict === 'skipped') {
    const reason = after.verdict === 'skipped' ? after.skipReason : before.skipReason;
    if (reason) lines.push(`skip reason: ${reason}`);
    return lines;
  }
  const fields: [string, keyof ProbeSnapshot][] = [
    ['outcome', 'outcomes'],
    ['responder', 'responders'],
    ['client', 'client'],
    ['server', 'server'],
  ];
  for (const [label, key] of fields) {
    const x = list(before[key] as string[]);
    const y = list(after[key] as string[]);
    if (x !== y) lines.push(`${label} ${x} → ${y}`);
  }
  return lines;
}

function classify(before: ProbeSnapshot, after: ProbeSnapshot, changes: string[]): DiffKind | null {
  if (before.verdict === 'skipped' || after.verdict === 'skipped') return before.verdict === after.verdict ? null : 'skipped';
  if (before.verdict === 'pass' && after.verdict === 'fail') return 'regression';
  if (before.verdict === 'fail' && after.verdict === 'pass') return 'fix';
  return changes.length ? 'changed' : null;
}

export function diffReports(a: RunReport, b: RunReport): ReportDiff {
  const counts: ReportDiff['counts'] = { regression: 0, fix: 0, changed: 0, added: 0, removed: 0, skipped: 0, unchanged: 0 };
  const entries: DiffEntry[] = [];
  const pairs = pairTargets(a, b);
  for (const [ta, tb] of pairs) {
    const ra = rows(ta);
    const rb = rows(tb);
    const matchedB = new Set<string>();
    const compare = (row: Row, other: Row) => {
      const changes = changeLines(row.snap, other.snap);
      const kind = classify(row.snap, other.snap, changes);
      if (kind) entries.push({ kind, scenario: row.scenario, probe: row.probe ?? other.probe, before: row.snap, after: other.snap, changes });
      else counts.unchanged += 1;
    };
    for (const [key, row] of ra) {
      // A skipped scenario has one scenario-level row; it matches every probe row of the same scenario on the other side.
      const candidates = rb.has(key)
        ? [key]
        : row.probe === null
          ? [...rb.keys()].filter((k) => rb.get(k)!.scenario === row.scenario)
          : rb.has(`${row.scenario}\u0000`)
            ? [`${row.scenario}\u0000`]
            : [];
      if (candidates.length === 0) {
        entries.push({ kind: 'removed', scenario: row.scenario, probe: row.probe, before: row.snap, after: null, changes: [`only in ${a.run.id} (istio ${row.snap.istio}): ${row.snap.verdict}`] });
        continue;
      }
      for (const k of candidates) {
        if (row.probe !== null && matchedB.has(k) && rb.get(k)!.probe === null) continue;
        matchedB.add(k);
        compare(row, rb.get(k)!);
      }
    }
    for (const [key, row] of rb) {
      if (matchedB.has(key)) continue;
      entries.push({ kind: 'added', scenario: row.scenario, probe: row.probe, before: null, after: row.snap, changes: [`only in ${b.run.id} (istio ${row.snap.istio}): ${row.snap.verdict}`] });
    }
  }
  for (const entry of entries) counts[entry.kind] += 1;
  return {
    a: { id: a.run.id, versions: a.targets.map(versionLabel) },
    b: { id: b.run.id, versions: b.targets.map(versionLabel) },
    pairs: pairs.map(([x, y]) => ({ a: x ? versionLabel(x) : null, b: y ? versionLabel(y) : null })),
    entries,
    counts,
  };
}

export function hasRegressions(diff: ReportDiff): boolean {
  return diff.counts.regression > 0;
}

const SECTION: [DiffKind, string][] = [
  ['regression', 'Regressions (passed before, fail now)'],
  ['fix', 'Fixes (failed before, pass now)'],
  ['changed', 'Changed behaviour (same verdict, different path)'],
  ['skipped', 'Skipped on one side'],
  ['added', 'Only in B'],
  ['removed', 'Only in A'],
];

/** "path expected passthrough; A passthrough → B captured(...)": the named paths of both sides. */
export function pathLine(e: DiffEntry): string | null {
  const expected = e.after?.expectedPath ?? e.before?.expectedPath ?? null;
  if (expected === null) return null;
  const side = (s: ProbeSnapshot | null) => (s === null ? 'absent' : s.verdict === 'skipped' ? 'skipped' : list(s.paths));
  const beforeExpected = e.before?.expectedPath ?? expected;
  const expectedText = beforeExpected === expected ? expected : `${beforeExpected} → ${expected}`;
  return `path expected ${expectedText}; observed ${side(e.before)} → ${side(e.after)}`;
}

/** Human rendering: grouped by kind, each row "scenario / probe  A-version → B-version" and its changes. */
export function renderDiff(diff: ReportDiff): string {
  const lines = [`podpath diff: A ${diff.a.id} (istio ${diff.a.versions.join(', ') || '-'}) → B ${diff.b.id} (istio ${diff.b.versions.join(', ') || '-'})`, ''];
  for (const [kind, title] of SECTION) {
    const group = diff.entries.filter((e) => e.kind === kind);
    if (!group.length) continue;
    lines.push(`${title}: ${group.length}`);
    for (const e of group) {
      const versions = `${e.before?.istio ?? '-'} → ${e.after?.istio ?? '-'}`;
      lines.push(`  ${e.scenario}${e.probe ? ` / ${e.probe}` : ''}  [istio ${versions}]`);
      for (const change of e.changes) lines.push(`      ${change}`);
      const paths = pathLine(e);
      if (paths) lines.push(`      ${paths}`);
    }
    lines.push('');
  }
  const c = diff.counts;
  lines.push(
    `${c.regression} regression${c.regression === 1 ? '' : 's'}, ${c.fix} fix${c.fix === 1 ? '' : 'es'}, ${c.changed} changed, ${c.skipped} skipped on one side, ${c.added} only in B, ${c.removed} only in A, ${c.unchanged} unchanged.`,
  );
  return lines.join('\n') + '\n';
}

