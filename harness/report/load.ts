/** Reading a report.json back (podpath report, podpath diff, scripts), with clear errors for bad input. */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors/index.ts';
import { REPORT_SCHEMA_VERSION, type RunReport } from './schema.ts';

const STATUSES = new Set(['passed', 'failed', 'skipped', 'flaky', 'observed', 'partial']);
const VERDICTS = new Set(['pass', 'fail', 'observe']);

function fail(source: string, where: string, what: string): never {
  throw new UsageError(`${source}: not a podpath report: ${where} ${what}`, {
    hint: 'Pass a results/<run-id> directory or its report.json, as written by podpath run.',
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks what renderers and diff rely on (not every optional detail) and the schema version:
 * newer files get "upgrade podpath", older ones "re-run", never a crash halfway through a render.
 */
export function validateReport(value: unknown, source = 'report.json'): RunReport {
  if (!isObject(value)) fail(source, 'the top level', 'is not a JSON object');
  const version = value.schemaVersion;
  if (typeof version !== 'number') fail(source, 'schemaVersion', 'is missing');
  if (version !== REPORT_SCHEMA_VERSION) {
    throw new UsageError(`${source}: report schema version ${version} is not supported (this podpath reads version ${REPORT_SCHEMA_VERSION})`, {
      hint: version > REPORT_SCHEMA_VERSION ? 'Upgrade podpath to read reports written by a newer version.' : 'Re-run the scenarios with this podpath to get a current report.',
    });
  }
  const run = value.run;
  if (!isObject(run)) fail(source, 'run', 'is missing');
  for (const key of ['id', 'startedAt', 'finishedAt']) if (typeof run[key] !== 'string') fail(source, `run.${key}`, 'is not a string');
  if (!Array.isArray(value.targets)) fail(source, 'targets', 'is not an array');
  value.targets.forEach((target: unknown, ti: number) => {
    const at = `targets[${ti}]`;
    if (!isObject(target)) fail(source, at, 'is not an object');
    if (!isObject(target.istio) || typeof target.istio.version !== 'string') fail(source, `${at}.istio.version`, 'is not a string');
    if (!Array.isArray(target.scenarios)) fail(source, `${at}.scenarios`, 'is not an array');
    for (const key of ['kind', 'nodeImage']) {
      // Optional (older reports have neither): when present, a string or null.
      if (target[key] !== undefined && target[key] !== null && typeof target[key] !== 'string') fail(source, `${at}.${key}`, 'is not a string or null');
    }
    if (target.mtls !== undefined && target.mtls !== null && !(isObject(target.mtls) && typeof target.mtls.mode === 'string' && (target.mtls.policy === null || typeof target.mtls.policy === 'string'))) {
      fail(source, `${at}.mtls`, 'is not {mode, policy} or null');
    }
    const features = target.features;
    if (features !== undefined && features !== null && !(isObject(features) && isObject(features.source)
      && ['externalNameAlias', 'dnsCapture', 'dnsAutoAllocate'].every((k) => typeof features[k] === 'boolean')
      && typeof features.outboundTrafficPolicy === 'string' && typeof features.connectTimeout === 'string')) {
      fail(source, `${at}.features`, 'is not {externalNameAlias, dnsCapture, dnsAutoAllocate, outboundTrafficPolicy, connectTimeout, source} or null');
    }
    if (target.warnings !== undefined && !(Array.isArray(target.warnings) && target.warnings.every((w: unknown) => typeof w === 'string'))) fail(source, `${at}.warnings`, 'is not a list of strings');
    target.scenarios.forEach((scenario: unknown, si: number) => {
      const sat = `${at}.scenarios[${si}]`;
      if (!isObject(scenario)) fail(source, sat, 'is not an object');
      if (typeof scenario.id !== 'string') fail(source, `${sat}.id`, 'is not a string');
      if (typeof scenario.status !== 'string' || !STATUSES.has(scenario.status)) fail(source, `${sat}.status`, `is not one of ${[...STATUSES].join(', ')}`);
      if (!Array.isArray(scenario.probes)) fail(source, `${sat}.probes`, 'is not an array');
      if (!isObject(scenario.timings) || typeof scenario.timings.total !== 'number') fail(source, `${sat}.timings.total`, 'is not a number');
      scenario.probes.forEach((probe: unknown, pi: number) => {
        const pat = `${sat}.probes[${pi}]`;
        if (!isObject(probe)) fail(source, pat, 'is not an object');
        if (typeof probe.name !== 'string') fail(source, `${pat}.name`, 'is not a string');
        if (typeof probe.verdict !== 'string' || !VERDICTS.has(probe.verdict)) fail(source, `${pat}.verdict`, 'is not pass, fail or observe');
        if (!Array.isArray(probe.observed)) fail(source, `${pat}.observed`, 'is not an array');
        if (!isObject(probe.expected)) fail(source, `${pat}.expected`, 'is not an object');
      });
    });
  });
  return value as unknown as RunReport;
}

export interface LoadedReport {
  report: RunReport;
  /** The report.json that was read. */
  file: string;
  /** The run directory (evidence paths are relative to it). */
  runDir: string;
}

/** `where` is a run directory or a report.json path, relative to `cwd`. */
export async function readReport(where: string, cwd: string = process.cwd()): Promise<LoadedReport> {
  const resolved = path.resolve(cwd, where);
  const info = await stat(resolved).catch((error: unknown) => {
    throw new UsageError(`${where}: no such run directory or report file`, { hint: 'Runs are written to results/<run-id>/; list them with: ls results/', cause: error });
  });
  const file = info.isDirectory() ? path.join(resolved, 'report.json') : resolved;
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new UsageError(`${where}: no report.json there`, { hint: 'An interrupted write leaves no run directory; pass a results/<run-id> directory that podpath run finished.', cause: error });
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path.relative(cwd, file) || file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  return { report: validateReport(parsed, path.relative(cwd, file) || file), file, runDir: path.dirname(file) };
}
