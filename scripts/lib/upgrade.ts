/**
 * The upgrade-validation flow: bring a cluster up on Istio A, run the suite, upgrade the control
 * plane in place (or by revision with --canary) and restart the workloads, run again, diff.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Io } from '../../harness/cli/output.ts';
import { write } from '../../harness/cli/output.ts';
import { buildComparisonModel, countStatuses, diffReports, formatTotals, hasRegressions, renderComparisonMarkdown, renderDiff, renderHtmlComparison, type RunReport } from '../../harness/report/index.ts';
import { flowStamp, usage } from './args.ts';
import { UsageError } from '../../harness/errors/index.ts';
import { ranOrThrow, type BedLike, type FlowBedOptions, type ResolveIstioRelease, type RunSuite } from './deps.ts';

export const UPGRADE_HELP = `Usage: npx zx scripts/upgrade.ts --from A --to B [options]

Brings kind cluster NAME up on Istio A, runs the scenario suite, upgrades the control plane to B
(in place, or as a canary revision with --canary) and restarts the workloads so they get B's
sidecars, runs the suite again, then prints 'podpath diff' of the two runs and writes one page,
upgrade.html (both versions' grid and every changed path side by side), and summary.md.

Options:
  --from A             Istio version to start from, e.g. 1.29
  --to B               Istio version to upgrade to, e.g. 1.30
  --canary             install B as a revision and move the namespaces to it (istio.io/rev)
  --name NAME          kind cluster name (default podpath)
  --scenario REGEX     run only matching scenarios (repeatable; !REGEX excludes)
  --results DIR        results root (default: results); runs go to DIR/upgrade-STAMP/{from,to}-V/
  --connect-timeout D  meshConfig.connectTimeout for the test mesh (default 1s, keeps failures fast)
  --log-encoding E     text or json sidecar access logs (default text)
  --reuse              start from an existing podpath cluster already on A
  --keep               keep the cluster afterwards (default: delete it if this flow created it)
  --dry-run            print the plan, touch nothing
  -h, --help           show this help

A new cluster runs the newest Kubernetes both A and B support; a cluster whose node Kubernetes B
does not support is refused. Istio's docs support in-place upgrades one minor at a time and
revision (--canary) upgrades across up to two minors: a larger jump warns, naming the minors skipped.

Exit codes: 0 no regression, 1 a scenario that passed on A fails on B, 2 usage or environment error.
`;

export interface UpgradeOptions {
  from: string;
  to: string;
  canary: boolean;
  name: string;
  scenarios: string[];
  resultsRoot: string;
  connectTimeout: string;
  logEncoding: 'text' | 'json';
  reuse: boolean;
  keep: boolean;
  dryRun: boolean;
  help: boolean;
}

export function parseUpgradeArgs(args: string[]): UpgradeOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        canary: { type: 'boolean' },
        name: { type: 'string' },
        scenario: { type: 'string', multiple: true },
        results: { type: 'string' },
        'connect-timeout': { type: 'string' },
        'log-encoding': { type: 'string' },
        reuse: { type: 'boolean' },
        keep: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw usage('upgrade', error instanceof Error ? error.message.split('. ')[0] : String(error));
  }
  const v = parsed.values;
  const help = v.help ?? false;
  if (!help && (!v.from || !v.to)) throw usage('upgrade', 'needs --from A and --to B');
  const logEncoding = v['log-encoding'] ?? 'text';
  if (logEncoding !== 'text' && logEncoding !== 'json') throw usage('upgrade', `--log-encoding is text or json, not '${logEncoding}'`);
  return {
    from: v.from ?? '',
    to: v.to ?? '',
    canary: v.canary ?? false,
    name: v.name ?? 'podpath',
    scenarios: v.scenario ?? [],
    resultsRoot: v.results ?? 'results',
    connectTimeout: v['connect-timeout'] ?? '1s',
    logEncoding,
    reuse: v.reuse ?? false,
    keep: v.keep ?? false,
    dryRun: v['dry-run'] ?? false,
    help,
  };
}

type Release = ReturnType<ResolveIstioRelease>;

function minorNumber(minor: string): [number, number] {
  const [major, m] = minor.split('.').map(Number);
  return [major, m];
}

/** Istio minors strictly between `from` and `to` (same major), e.g. 1.27 → 1.30: ['1.28', '1.29']. */
export function skippedMinors(from: string, to: string): string[] {
  const [fm, fn] = minorNumber(from);
  const [tm, tn] = minorNumber(to);
  if (fm !== tm || tn - fn < 2) return [];
  return Array.from({ length: tn - fn - 1 }, (_, i) => `${fm}.${fn + 1 + i}`);
}

/**
 * Istio's upgrade docs: in place, "the installed Istio version is no more than one minor version
 * less than the upgrade version" (istio.io docs/setup/upgrade/in-place); by revision, "jumping
 * across two minor versions is supported" (istio.io docs/setup/upgrade/canary; istio/istio.io
 * content/en/docs/setup/upgrade/{in-place,canary}/index.md). A larger jump is a warning naming
 * the minors skipped; the flow still runs it, since seeing what breaks is the point.
 */
export function jumpWarning(from: Release, to: Release, canary: boolean): string | null {
  const skipped = skippedMinors(from.minor, to.minor);
  const allowed = canary ? 1 : 0;
  if (skipped.length <= allowed) return null;
  const method = canary ? 'a revision (canary) upgrade supports jumping at most two minor versions' : 'an in-place upgrade supports one minor version at a time';
  return `Istio ${from.minor} → ${to.minor} skips ${skipped.join(', ')}: ${method} (istio.io docs/setup/upgrade/${canary ? 'canary' : 'in-place'}); results describe an upgrade path Istio does not support${canary ? '' : ' (try --canary, or upgrade through each minor)'}`;
}

/** Kubernetes minor of a kind node image, e.g. 'kindest/node:v1.30.10@sha256:…' → '1.30'; null when unreadable. */
export function nodeImageKubernetes(image: string): string | null {
  const m = /:v(\d+)\.(\d+)\.\d+/.exec(image);
  return m ? `${m[1]}.${m[2]}` : null;
}

/** The newest Kubernetes minor both releases support, or a UsageError saying why there is none. */
export function sharedKubernetes(from: Release, to: Release): string {
  const shared = from.kubernetes.filter((k) => to.kubernetes.includes(k));
  const newest = shared.sort((a, b) => minorNumber(a)[1] - minorNumber(b)[1]).at(-1);
  if (newest === undefined) {
    throw new UsageError(`Istio ${from.version} (Kubernetes ${range(from.kubernetes)}) and Istio ${to.version} (Kubernetes ${range(to.kubernetes)}) support no Kubernetes version in common: no cluster can run both`, {
      hint: 'Upgrade through an intermediate Istio minor whose range overlaps both.',
    });
  }
  return newest;
}

function range(kubernetes: readonly string[]): string {
  return kubernetes.length ? `${kubernetes[0]}–${kubernetes.at(-1)}` : 'none';
}

export interface UpgradeDeps<B extends BedLike> {
  resolveIstio: ResolveIstioRelease;
  /** Kubernetes minor the bed's kind node runs, e.g. '1.30'; null when it cannot be told. */
  nodeKubernetes: (bed: B) => string | null;
  up: (options: FlowBedOptions) => Promise<B>;
  upgradeIstio: (bed: B, to: string, options: { canary: boolean }) => Promise<void>;
  runSuite: RunSuite;
  now: () => Date;
}

function totalsLine(report: RunReport): string {
  return formatTotals(countStatuses(report.targets.flatMap((t) => t.scenarios)));
}

export async function runUpgrade<B extends BedLike>(options: UpgradeOptions, deps: UpgradeDeps<B>, io: Io): Promise<number> {
  const fromRelease = deps.resolveIstio(options.from);
  const toRelease = deps.resolveIstio(options.to);
  const from = fromRelease.version;
  const to = toRelease.version;
  if (from === to) throw usage('upgrade', `--from and --to are both Istio ${from}: nothing to upgrade`);
  // A new cluster gets a node both versions support; a reused one is checked once attached.
  const k8s = options.reuse ? undefined : sharedKubernetes(fromRelease, toRelease);
  const jump = jumpWarning(fromRelease, toRelease, options.canary);
  if (jump) await write(io.stderr, `upgrade: warning: ${jump}\n`);
  const root = path.resolve(io.cwd, options.resultsRoot, `upgrade-${flowStamp(deps.now())}`);
  const say = (text: string) => write(io.stdout, text + '\n');
  const suite = async (version: string, resultsDir: string, keep: boolean) =>
    ranOrThrow(await deps.runSuite(
      { scenarios: options.scenarios, istio: [version], reuse: true, keep, pauseOnFailure: false, repeat: 1, concurrency: 1, resultsDir, dryRun: options.dryRun, logEncoding: options.logEncoding,
        name: options.name, connectTimeout: options.connectTimeout, argv: ['upgrade-flow', '--from', from, '--to', to, '--run', version] },
      io,
    ));

  await say(`upgrade ${from} → ${to}${options.canary ? ' (canary revision)' : ' (in place)'} on kind cluster ${options.name}${options.dryRun ? ' (dry run)' : ''}`);
  await say(`1/4 bring up ${options.name} on Istio ${from}`);
  // keep: true here; this flow decides at the end whether the cluster goes (see finally).
  const bed = await deps.up({
    name: options.name,
    istio: from,
    logEncoding: options.logEncoding,
    connectTimeout: options.connectTimeout,
    ...(k8s ? { k8s } : {}),
    reuse: options.reuse,
    keep: options.keep,
    dryRun: options.dryRun,
    onProgress: (phase, detail) => void write(io.stderr, `  ${phase}: ${detail}\n`),
  });
  try {
    const node = deps.nodeKubernetes(bed);
    if (node !== null && !toRelease.kubernetes.includes(node)) {
      throw new UsageError(`refusing to upgrade kind cluster ${options.name} to Istio ${to}: its node runs Kubernetes ${node}, and Istio ${toRelease.minor} supports Kubernetes ${range(toRelease.kubernetes)}`, {
        hint: `Start from a new cluster (without --reuse, podpath picks Kubernetes ${range(fromRelease.kubernetes.filter((k) => toRelease.kubernetes.includes(k)))} that both versions support), or pick another --to.`,
      });
    }
    await say(`2/4 run the suite on Istio ${from}`);
    const before = await suite(from, path.join(root, `from-${from}`), true);
    await say(`    ${totalsLine(before.report)} (${path.relative(io.cwd, before.runDir)})`);

    await say(`3/4 upgrade the control plane to ${to}${options.canary ? ' as a revision' : ''} and restart the workloads`);
    await deps.upgradeIstio(bed, to, { canary: options.canary });

    await say(`4/4 run the suite on Istio ${to}`);
    const after = await suite(to, path.join(root, `to-${to}`), true);
    await say(`    ${totalsLine(after.report)} (${path.relative(io.cwd, after.runDir)})`);

    const diff = diffReports(before.report, after.report);
    const text = renderDiff(diff);
    if (!options.dryRun) {
      await mkdir(root, { recursive: true });
      await writeFile(path.join(root, 'diff.txt'), text);
      await writeFile(path.join(root, 'diff.json'), JSON.stringify(diff, null, 2) + '\n');
      // One page (both runs as a scenario x version grid, then every probe that changed path, A and B side by side)
      // and summary.md, from one model: the page `podpath diff A B --format html` writes.
      const href = (runDir: string) => `${path.relative(root, runDir).split(path.sep).join('/')}/report.html`;
      const comparison = buildComparisonModel(before.report, after.report, { a: href(before.runDir), b: href(after.runDir) }, diff);
      await writeFile(path.join(root, 'upgrade.html'), renderHtmlComparison(comparison));
      const summary = renderComparisonMarkdown(comparison);
      await writeFile(path.join(root, 'summary.md'), summary);
      if (io.env.GITHUB_STEP_SUMMARY) await appendFile(io.env.GITHUB_STEP_SUMMARY, summary + '\n');
      await say(`page: ${path.relative(io.cwd, path.join(root, 'upgrade.html'))} (both versions' grid and every changed path); summary.md beside it`);
    }
    await write(io.stdout, '\n' + text);
    await say(`same view later: npx podpath diff ${path.relative(io.cwd, before.runDir)} ${path.relative(io.cwd, after.runDir)}`);
    return hasRegressions(diff) ? 1 : 0;
  } finally {
    // Disposing the bed deletes the cluster only if up() created it and keep is false.
    await bed[Symbol.asyncDispose]();
  }
}
