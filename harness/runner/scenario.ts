/**
 * The scenario model: what an Istio user reads in `scenarios/*.ts`. Plain data plus a few small
 * functions: which Istio versions (and istiod env) a scenario applies to, which extras it applies,
 * which connections it opens, and per version range what each connection must look like.
 */
import semver from 'semver';
import type { ProbeOutcome, ProbeProtocol } from '../probe/index.ts';
import type { ClusterKind } from '../accesslog/index.ts';
import type { Verdict } from '../envoy/index.ts';
import { describeFeatureCondition, describeFeatures, FEATURE_NAMES, featuresMatch, type BedFeatures, type FeatureCondition, type FeatureName } from './bed-features.ts';

export type WorkloadName = 'manager' | 'app' | 'idle';

/** Where a probe goes: another replica's pod IP, a workload's pod IP, or a Service name. */
export type ProbeTarget =
  | { pod: 'other-manager' }
  | { pod: WorkloadName }
  | { service: string };

/** Where a scenario (or one expectation) holds: a semver range plus istiod env that must match. */
export interface VersionCondition {
  /** semver range over the Istio version, e.g. '<=1.20' or '>=1.21 <1.24'. */
  versions: string;
  /** istiod env the target must have been installed with (value compared as text). */
  pilotEnv?: Record<string, string>;
}

export interface SideExpectation {
  /** ClusterRef.kind of the entry's upstream cluster. */
  cluster: ClusterKind;
  /** Cluster name as logged; `*` matches any run of characters, e.g. 'outbound|5701||app-ext.*'. */
  name?: string;
  /** Response flags, exactly; [] means "no flags" (`-`); leave out to not check them. */
  flags?: string[];
  /** %RESPONSE_CODE_DETAILS%, e.g. 'filter_chain_not_found'. */
  details?: string;
}

/** A server-side entry may carry no cluster (listener-level rejects log `-`). */
export type ServerExpectation = 'absent' | (Omit<SideExpectation, 'cluster'> & { cluster?: ClusterKind });

/** Who must answer: the pod the probe targeted, nobody (no identity reply), or a pod of a workload. */
export type ResponderExpectation = 'target' | 'nobody' | WorkloadName;

export interface PathExpectation {
  outcome: ProbeOutcome;
  responder?: ResponderExpectation;
  httpStatus?: number;
  client?: SideExpectation;
  server?: ServerExpectation;
  /** What `explain` on the client sidecar's config dump must predict. Also the convergence predicate. */
  explain?: Verdict;
}

/** One row of a scenario's expectation table: where it holds, and what must happen there. */
export interface ExpectationRule extends VersionCondition, PathExpectation {
  /** Set (to the reason) when this behaviour is recorded but not yet pinned: it never fails a run. */
  observe?: string;
  /**
   * A feature row: holds only on a bed whose features (read from its istiod) have these values,
   * and `versions` also matches. Skipped when the bed's features could not be read: the version
   * rows after it decide then.
   */
  when?: FeatureCondition;
}

export interface ProbeSpec {
  name: string;
  from: WorkloadName;
  to: ProbeTarget;
  port: number;
  protocol: ProbeProtocol;
  /** Connections to open, one after another (default 1). */
  count?: number;
  /** HTTP Host header; default: the target as dialled (a pod IP stays a pod IP). */
  httpHost?: string;
  /** Overrides the scenario's expectation table for this probe. */
  expect?: ExpectationRule[];
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE';

export interface MeshNeeds {
  /** istiod env the control plane must be installed with (a separate bed per distinct set). */
  pilotEnv?: Record<string, string>;
  /** Mesh-wide PeerAuthentication; PERMISSIVE is Istio's default and needs nothing applied. */
  mtls?: MtlsMode;
}

export interface Scenario {
  id: string;
  title: string;
  /** Which incident it comes from (its name, or an incident file's id). */
  seed: string | null;
  /** Where the scenario applies at all (any row matches); absent = everywhere. Skipped elsewhere, with the reason. */
  applies?: VersionCondition[];
  mesh?: MeshNeeds;
  /** Names of manifests/extras/NAME.yaml applied for the scenario, removed after it. */
  apply: string[];
  probes: ProbeSpec[];
  /** First matching row wins: put specific rows (with pilotEnv) before general ones. */
  expect: ExpectationRule[];
  /** Why the expectations are what they are, for readers and the report. */
  notes?: string;
}

/** The Istio side of a bed: version and the istiod env it was installed with. */
export interface TargetInfo {
  istio: string;
  pilotEnv: Record<string, string>;
  /** What the bed's istiod really runs with, read when the bed opened; absent or null: not read (version rows decide). */
  features?: BedFeatures | null;
}

/** Whether `version` satisfies `range` (prerelease-tolerant, `1.22` read as `1.22.0`). */
export function versionMatches(version: string, range: string): boolean {
  const v = semver.coerce(version, { includePrerelease: false });
  if (v === null) return false;
  return semver.satisfies(v, range, { includePrerelease: true });
}

function envMatches(wanted: Record<string, string> | undefined, actual: Record<string, string>): boolean {
  return Object.entries(wanted ?? {}).every(([k, v]) => actual[k] === v);
}

export function conditionHolds(condition: VersionCondition, target: TargetInfo): boolean {
  return versionMatches(target.istio, condition.versions) && envMatches(condition.pilotEnv, target.pilotEnv);
}

export function describeCondition(condition: VersionCondition & { when?: FeatureCondition }): string {
  const env = Object.entries(condition.pilotEnv ?? {}).map(([k, v]) => `${k}=${v}`);
  const base = env.length ? `${condition.versions} with ${env.join(', ')}` : condition.versions;
  return condition.when ? `${describeFeatureCondition(condition.when)}${condition.versions === '*' ? '' : ` on ${base}`}` : base;
}

/** null when the scenario applies to the target, else the reason it is skipped there. */
export function skipReason(scenario: Scenario, target: TargetInfo): string | null {
  if (scenario.mesh?.pilotEnv && !envMatches(scenario.mesh.pilotEnv, target.pilotEnv)) {
    return `needs istiod env ${describeCondition({ versions: '', pilotEnv: scenario.mesh.pilotEnv }).replace(/^ with /, '')}; this bed has ${describeEnv(target.pilotEnv)}`;
  }
  if (!scenario.applies || scenario.applies.some((c) => conditionHolds(c, target))) return null;
  return `applies only to Istio ${scenario.applies.map(describeCondition).join(' || ')}; this bed runs ${target.istio} with ${describeEnv(target.pilotEnv)}`;
}

export function describeEnv(env: Record<string, string>): string {
  const parts = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(', ') : 'no extra istiod env';
}

/** Whether a row holds on the target: a feature row by the bed's features (never when they were not read), a version row by version and env. */
export function rowHolds(rule: ExpectationRule, target: TargetInfo): boolean {
  if (rule.when) return target.features != null && featuresMatch(rule.when, target.features) && versionMatches(target.istio, rule.versions);
  return conditionHolds(rule, target);
}

/** The row a probe is judged by, its 1-based position, and whether the bed's features or its version range chose it. */
export interface RowChoice {
  rule: ExpectationRule;
  row: number;
  by: 'features' | 'versions';
}

export function rowsFor(scenario: Scenario, probe: ProbeSpec): ExpectationRule[] {
  return probe.expect ?? scenario.expect;
}

/** First match wins; feature rows take part only when the bed's features were read. */
export function chooseRow(rows: readonly ExpectationRule[], target: TargetInfo): RowChoice | null {
  const i = rows.findIndex((rule) => rowHolds(rule, target));
  if (i < 0) return null;
  return { rule: rows[i], row: i + 1, by: rows[i].when ? 'features' : 'versions' };
}

/**
 * What a reader of the probe's result must know about how its row was chosen, when the table has
 * feature rows; null otherwise (a table of version rows only has nothing to explain).
 */
export function rowChoiceNote(rows: readonly ExpectationRule[], choice: RowChoice | null, target: TargetInfo): string | null {
  if (!rows.some((r) => r.when)) return null;
  if (target.features == null) {
    return choice
      ? `the bed's features were not read: row ${choice.row} (${describeCondition(choice.rule)}) chosen by Istio version ${target.istio} as a fallback`
      : `the bed's features were not read and no version row covers Istio ${target.istio}`;
  }
  // Only the features this table keys on: the rest of the bed is in the report header.
  const named = [...new Set(rows.flatMap((r) => Object.keys(r.when ?? {})))] as FeatureName[];
  const bed = describeFeatures(target.features, named);
  if (choice?.by === 'features') return `row ${choice.row} (${describeCondition(choice.rule)}) chosen by the bed's features: ${bed}`;
  return `no feature row matches the bed (${bed})${choice ? `: row ${choice.row} (${describeCondition(choice.rule)}) chosen by Istio version ${target.istio}` : ''}`;
}

/** The expectation row for this probe on this target, or null when none covers it. */
export function expectationFor(scenario: Scenario, probe: ProbeSpec, target: TargetInfo): ExpectationRule | null {
  return chooseRow(rowsFor(scenario, probe), target)?.rule ?? null;
}

/** Extras a scenario needs on a bed: its own, plus the PeerAuthentication its mesh needs. */
export function extrasFor(scenario: Scenario): string[] {
  const extras = scenario.mesh?.mtls === 'STRICT' ? ['strict-mtls', ...scenario.apply] : [...scenario.apply];
  return [...new Set(extras)];
}

/**
 * Scenarios that change anything run alone: a Service, ServiceEntry, Sidecar or PeerAuthentication
 * is visible to every sidecar, so it would change the path of a scenario running beside it.
 */
export function isExclusive(scenario: Scenario): boolean {
  return extrasFor(scenario).length > 0;
}

/** Checks a scenario file is well-formed, so a typo fails the scenario tests, not a nightly run. */
export function validateScenario(scenario: Scenario): string[] {
  const problems: string[] = [];
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(scenario.id)) problems.push(`id '${scenario.id}' is not kebab-case`);
  const ranges = [...(scenario.applies ?? []), ...scenario.expect, ...scenario.probes.flatMap((p) => p.expect ?? [])];
  for (const c of ranges) if (semver.validRange(c.versions) === null) problems.push(`'${c.versions}' is not a semver range`);
  if (scenario.probes.length === 0) problems.push('no probes');
  for (const p of scenario.probes) {
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) problems.push(`probe ${p.name}: bad port ${p.port}`);
    if ((p.expect ?? scenario.expect).length === 0) problems.push(`probe ${p.name}: no expectation rows`);
  }
  for (const rule of [...scenario.expect, ...scenario.probes.flatMap((p) => p.expect ?? [])]) problems.push(...featureRowProblems(rule));
  problems.push(...hiddenRows(scenario.expect).map((h) => `expect: ${h}`));
  for (const p of scenario.probes) if (p.expect) problems.push(...hiddenRows(p.expect).map((h) => `probe ${p.name}: expect: ${h}`));
  return problems;
}

const FEATURE_TYPES: Record<string, (v: unknown) => boolean> = {
  externalNameAlias: (v) => typeof v === 'boolean',
  dnsCapture: (v) => typeof v === 'boolean',
  dnsAutoAllocate: (v) => typeof v === 'boolean',
  outboundTrafficPolicy: (v) => v === 'ALLOW_ANY' || v === 'REGISTRY_ONLY',
  connectTimeout: (v) => typeof v === 'string' && v !== '',
};

function featureRowProblems(rule: ExpectationRule): string[] {
  if (!rule.when) return [];
  const problems: string[] = [];
  const keys = Object.keys(rule.when);
  if (keys.length === 0) problems.push(`a feature row (${rule.versions}) names no feature: use a version row`);
  for (const k of keys) {
    if (!(FEATURE_NAMES as readonly string[]).includes(k)) problems.push(`feature '${k}' is not one of ${FEATURE_NAMES.join(', ')}`);
    else if (!FEATURE_TYPES[k]((rule.when as Record<string, unknown>)[k])) problems.push(`feature ${k}: ${JSON.stringify((rule.when as Record<string, unknown>)[k])} is not a value it takes`);
  }
  // The istiod env a feature row would check is what the features are read from: one or the other.
  if (rule.pilotEnv && Object.keys(rule.pilotEnv).length) problems.push(`a feature row (${describeFeatureCondition(rule.when)}) also sets pilotEnv: key it on the feature alone`);
  return problems;
}

/** Whether every feature `a` names is named by `b` with the same value (absent = no condition). */
function impliedBy(a: FeatureCondition | undefined, b: FeatureCondition | undefined): boolean {
  return Object.entries(a ?? {}).every(([k, v]) => (b as Record<string, unknown> | undefined)?.[k] === v);
}

/**
 * Release versions that stand for every version a set of ranges can tell apart: each version a
 * comparator names, the next patch after it (inside the gap up to the next one, if any), and 0.0.0.
 * Between two of these, every range matches all release versions or none.
 */
function representativeVersions(ranges: readonly string[]): string[] {
  const out = new Set<string>(['0.0.0']);
  for (const text of ranges) {
    for (const set of new semver.Range(text).set) {
      for (const comparator of set) {
        const v = semver.coerce(comparator.semver.version);
        if (v === null) continue; // `*` names no version
        out.add(v.version);
        out.add(semver.inc(v.version, 'patch') ?? v.version);
      }
    }
  }
  return [...out];
}

/**
 * Rows are first-match, so a row is dead when the rows before it already match every target it
 * matches: those whose pilotEnv it implies (same keys with the same values, or fewer keys), at
 * every version it matches. Feature rows count the same way with their features: a feature row is
 * hidden by earlier rows whose features it implies (a version row names none); a version row only
 * by earlier version rows, since it is the fallback when a bed's features were not read. Rows
 * that only cover it together through different values of one env var or feature are not detected.
 */
export function hiddenRows(rows: readonly ExpectationRule[]): string[] {
  const problems: string[] = [];
  const valid = rows.filter((r) => semver.validRange(r.versions) !== null);
  const versions = representativeVersions(valid.map((r) => r.versions));
  rows.forEach((row, j) => {
    if (semver.validRange(row.versions) === null) return;
    const before = rows.slice(0, j).map((r, i) => ({ r, i })).filter(({ r }) => semver.validRange(r.versions) !== null
      && Object.entries(r.pilotEnv ?? {}).every(([k, v]) => row.pilotEnv?.[k] === v)
      && (row.when ? impliedBy(r.when, row.when) : !r.when));
    const mine = versions.filter((v) => versionMatches(v, row.versions));
    if (mine.length === 0 || !mine.every((v) => before.some(({ r }) => versionMatches(v, r.versions)))) return;
    const covering = before.filter(({ r }) => mine.some((v) => versionMatches(v, r.versions))).map(({ i }) => i + 1);
    const rowsText = covering.length > 1 ? `rows ${covering.join(', ')} before it already match` : `row ${covering[0]} before it already matches`;
    problems.push(`row ${j + 1} (${describeCondition(row)}) is never used: ${rowsText} every target it matches (first match wins: put the more specific row first)`);
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// A small fluent builder, so a scenario file reads top to bottom like the test it describes.

export class ScenarioBuilder {
  private readonly value: Scenario;

  constructor(id: string, title: string) {
    this.value = { id, title, seed: null, apply: [], probes: [], expect: [] };
  }
  seed(seed: string): this {
    this.value.seed = seed;
    return this;
  }
  /** Applies only where one of these holds, e.g. appliesTo('<=1.20').appliesTo('>=1.21 <1.24', {...}). */
  appliesTo(versions: string, pilotEnv?: Record<string, string>): this {
    (this.value.applies ??= []).push(pilotEnv ? { versions, pilotEnv } : { versions });
    return this;
  }
  mesh(needs: MeshNeeds): this {
    this.value.mesh = { ...this.value.mesh, ...needs };
    return this;
  }
  apply(...extras: string[]): this {
    this.value.apply.push(...extras);
    return this;
  }
  probe(spec: ProbeSpec): this {
    this.value.probes.push(spec);
    return this;
  }
  /** A row of the expectation table (first match wins); `versions` wins over a range the expectation carries. */
  expect(versions: string, expectation: PathExpectation & { pilotEnv?: Record<string, string>; observe?: string; versions?: string }): this {
    // The range given here wins over one a shared row helper carries (baselineRows() rows say '>=1.8').
    this.value.expect.push({ ...expectation, versions });
    return this;
  }
  /**
   * A feature row (first match wins, like every row): holds on a bed whose istiod really runs with
   * these features, e.g. when({ externalNameAlias: false }, collision('*')). `versions` (default
   * '*') must hold too. Where the bed's features could not be read it is skipped and the version
   * rows decide, so keep version rows after it as the fallback.
   */
  when(features: FeatureCondition, expectation: PathExpectation & { observe?: string; versions?: string }, versions = '*'): this {
    this.value.expect.push({ ...expectation, versions, when: { ...features } });
    return this;
  }
  /** Several rows at once, e.g. from a shared helper. */
  expectRows(rows: ExpectationRule[]): this {
    this.value.expect.push(...rows);
    return this;
  }
  notes(text: string): this {
    this.value.notes = text;
    return this;
  }
  build(): Scenario {
    return structuredClone(this.value);
  }
}

export function scenario(id: string, title: string): ScenarioBuilder {
  return new ScenarioBuilder(id, title);
}

// Shared expectation pieces, named the way the seeds describe them.
