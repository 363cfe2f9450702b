/**
 * The upgrade-validation flow: bring a cluster up on Istio A, run the suite, upgrade the control
 * plane in place (or by revision with --canary) and restart the workloads, run again, diff.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Io } from '../../harness/cli/output.ts';
import { write } from '../../harness/cli/output.ts';
import { countStatuses, diffReports, formatTotals, hasRegressions, renderDiff, renderHtmlDiff, renderHtmlMatrix, type RunReport } from '../../harness/report/index.ts';
import { flowStamp, usage } from './args.ts';
import type { BedLike, FlowBedOptions, ResolveIstio, RunSuite } from './deps.ts';

export const UPGRADE_HELP = `Usage: npx zx scripts/upgrade.ts --from A --to B [options]

Brings kind cluster NAME up on Istio A, runs the scenario suite, upgrades the control plane to B
(in place, or as a canary revision with --canary) and restarts the workloads so they get B's
sidecars, runs the suite again, then prints 'podpath diff' of the two runs.

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

export interface UpgradeDeps<B extends BedLike> {
  resolveIstio: ResolveIstio;
  up: (options: FlowBedOptions) => Promise<B>;
  upgradeIstio: (bed: B, to: string, options: { canary: boolean }) => Promise<void>;
  runSuite: RunSuite;
  now: () => Date;
}

function totalsLine(report: RunReport): string {
  return formatTotals(countStatuses(report.targets.flatMap((t) => t.scenarios)));
}

export async function runUpgrade<B extends BedLike>(options: UpgradeOptions, deps: UpgradeDeps<B>, io: Io): Promise<number> {
  const from = deps.resolveIstio(options.from).version;
  const to = deps.resolveIstio(options.to).version;
  if (from === to) throw usage('upgrade', `--from and --to are both Istio ${from}: nothing to upgrade`);
  const root = path.resolve(io.cwd, options.resultsRoot, `upgrade-${flowStamp(deps.now())}`);
  const say = (text: string) => write(io.stdout, text + '\n');
  const suite = (version: string, resultsDir: string, keep: boolean) =>
    deps.runSuite(
      { scenarios: options.scenarios, istio: [version], reuse: true, keep, pauseOnFailure: false, repeat: 1, concurrency: 1, resultsDir, dryRun: options.dryRun, logEncoding: options.logEncoding,
        name: options.name, connectTimeout: options.connectTimeout, argv: ['upgrade-flow', '--from', from, '--to', to, '--run', version] },
      io,
    );

  await say(`upgrade ${from} → ${to}${options.canary ? ' (canary revision)' : ' (in place)'} on kind cluster ${options.name}${options.dryRun ? ' (dry run)' : ''}`);
  await say(`1/4 bring up ${options.name} on Istio ${from}`);
  // keep: true here; this flow decides at the end whether the cluster goes (see finally).
  const bed = await deps.up({
    name: options.name,
    istio: from,
    logEncoding: options.logEncoding,
    connectTimeout: options.connectTimeout,
    reuse: options.reuse,
    keep: options.keep,
    dryRun: options.dryRun,
    onProgress: (phase, detail) => void write(io.stderr, `  ${phase}: ${detail}\n`),
  });
  try {
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
      // The same two runs drawn: which probes changed path (upgrade.html) and the scenario x version grid (matrix.html).
      const href = (runDir: string) => `${path.relative(root, runDir).split(path.sep).join('/')}/report.html`;
      await writeFile(path.join(root, 'upgrade.html'), renderHtmlDiff(before.report, after.report, { a: href(before.runDir), b: href(after.runDir) }, diff));
      await writeFile(path.join(root, 'matrix.html'), renderHtmlMatrix([before, after].map((r) => ({ report: r.report, href: href(r.runDir) }))));
    }
    await write(io.stdout, '\n' + text);
    await say(`same view later: npx podpath diff ${path.relative(io.cwd, before.runDir)} ${path.relative(io.cwd, after.runDir)}`);
    return hasRegressions(diff) ? 1 : 0;
  } finally {
    // Disposing the bed deletes the cluster only if up() created it and keep is false.
    await bed[Symbol.asyncDispose]();
  }
}
