import type { Command, Values } from '../command.ts';
import { wantsColor, write, type Io } from '../output.ts';
import { EnvironmentError, isPodpathError, UsageError } from '../../errors/index.ts';
import { ISTIO_MINORS } from '../../cluster/index.ts';
import { renderTerminalTable, type RunReport } from '../../report/index.ts';
import { runSuite, type RunOptions, type SuiteDeps } from '../../runner/index.ts';
import { terminalSink, type TerminalSinkOptions } from '../suite-output.ts';

function list(values: Values, name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function positiveInt(values: Values, name: string, fallback: number): number {
  const text = str(values, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--${name} must be a whole number >= 1, not '${text}'`);
  return Number(text);
}

function encoding(values: Values): 'text' | 'json' {
  const e = str(values, 'log-encoding') ?? 'text';
  if (e !== 'text' && e !== 'json') throw new UsageError(`--log-encoding must be text or json, not '${e}'`);
  return e;
}

/** 130 when interrupted, 1 when any scenario failed, else 0 (flaky and observed never fail the run). */
export function exitCodeFor(report: RunReport): number {
  if (report.run.interrupted) return 130;
  return report.totals.failed > 0 ? 1 : 0;
}

/** The command, with the suite's dependencies replaceable (podpath's own tests use the loopback double). */
export function makeRunCommand({ stdinIsTTY, stderrIsTTY, ...deps }: Partial<SuiteDeps> & TerminalSinkOptions = {}): Command {
  return {
    name: 'run',
    summary: 'Run the scenarios and report which path each connection took (needs Docker)',
    usage: '[--scenario REGEX]... [--istio V[,V...]] [--reuse] [--keep] [--repeat N] [--concurrency N] [--results DIR] [--skip-preload] [--dry-run] [--json]',
    details: [
      'Brings up one kind cluster per Istio version (and per istiod env a scenario needs), or attaches',
      'to it with --reuse, then plays each scenario: apply its extras, wait until the client sidecar\'s',
      'config predicts the expected path (never a fixed sleep), open the connections from inside the',
      'pods, read both sidecars\' access logs for those exact connections, compare, clean up.',
      'The test mesh is installed with meshConfig.connectTimeout 1s unless --connect-timeout says',
      'otherwise; reports say which.',
      '',
      'Results go to DIR/<run-id>/ (report.json, junit.xml, summary.md, report.html, evidence/, bundle.tar.gz).',
      '',
      'Examples:',
      '  podpath run --dry-run                          print every step without a cluster',
      '  podpath run --reuse --scenario collision       rerun the seed incident on the current bed',
      '  podpath run --istio 1.20,1.22 --scenario \'!^http\'',
      '',
      'Each bed\'s Lease (kube-system/podpath-bed) is held for the whole run; if another run takes it',
      'over or it cannot be renewed, the run stops (extras removed, partial report marked aborted).',
      'When no bed can be brought up (no Docker, no cluster to --reuse), no results are written; a',
      'bed that failed beside others that ran is marked "bed: unavailable" in report.json.',
      '',
      'Exit codes: 0 all passed (flaky and observe-only scenarios do not fail a run), 1 a scenario',
      'failed, 2 usage or environment error (no bed, or a bed\'s lease lost), 130 interrupted (extras',
      'removed, partial report written).',
    ].join('\n'),
    options: {
      scenario: { type: 'string', multiple: true, valueName: 'REGEX', description: 'run only scenarios whose id matches (repeatable; !REGEX excludes)' },
      istio: { type: 'string', valueName: 'V[,V...]', description: `Istio versions, one bed each, run in turn (default ${ISTIO_MINORS[0].minor})` },
      name: { type: 'string', valueName: 'NAME', description: 'kind cluster name of the first bed (default podpath)' },
      reuse: { type: 'boolean', description: 'attach to the existing bed instead of creating it' },
      keep: { type: 'boolean', description: 'keep the cluster, and a failed scenario\'s extras, for inspection' },
      'pause-on-failure': { type: 'boolean', description: 'wait for Enter after a failure, before cleaning up (needs a TTY)' },
      repeat: { type: 'string', valueName: 'N', description: 'run each scenario N times; disagreeing attempts are flaky (default 1)' },
      concurrency: { type: 'string', valueName: 'N', description: 'scenarios at once; any scenario that applies something runs alone (default 1)' },
      results: { type: 'string', valueName: 'DIR', description: 'where run directories go (default results)' },
      'log-encoding': { type: 'string', valueName: 'text|json', description: 'sidecar access log encoding of new beds (default text)' },
      'connect-timeout': { type: 'string', valueName: 'DURATION', description: 'meshConfig.connectTimeout of new beds (default 1s)' },
      'skip-preload': { type: 'boolean', description: 'do not pull and kind-load the images into new beds (the kubelet pulls them)' },
      'dry-run': { type: 'boolean', description: 'print the full plan (bring-up and every step of every scenario); needs no cluster' },
      json: { type: 'boolean', description: 'print report.json on stdout (scenario lines go to stderr)' },
    },
    allowPositionals: false,
    async run({ values, io, signal, scenarios: catalogue }) {
      const scenarios = deps.scenarios ?? catalogue;
      if (!scenarios) {
        throw new EnvironmentError('podpath run was started without a scenario catalogue', { hint: 'Start podpath through its entry point (npx podpath, i.e. bin/podpath.ts), which passes scenarios/index.ts.' });
      }
      const istio = (str(values, 'istio') ?? ISTIO_MINORS[0].minor).split(',').map((v) => v.trim()).filter(Boolean);
      const json = values.json === true;
      const human: Io = json ? { ...io, stdout: io.stderr } : io;
      const options: RunOptions = {
        scenarios: list(values, 'scenario'),
        istio,
        reuse: values.reuse === true,
        keep: values.keep === true,
        pauseOnFailure: values['pause-on-failure'] === true,
        repeat: positiveInt(values, 'repeat', 1),
        concurrency: positiveInt(values, 'concurrency', 1),
        resultsDir: str(values, 'results') ?? 'results',
        dryRun: values['dry-run'] === true,
        logEncoding: encoding(values),
        signal,
        name: str(values, 'name'),
        connectTimeout: str(values, 'connect-timeout'),
        argv: ['run', ...rawArgv(values)],
        preload: values['skip-preload'] !== true,
      };
      if (options.resultsDir && !options.resultsDir.startsWith('/')) options.resultsDir = `${io.cwd}/${options.resultsDir}`;
      const { report, runDir, plans, bedErrors, written, aborted } = await runSuite(options, terminalSink(human, { stdinIsTTY, stderrIsTTY }), { ...deps, scenarios });
      const bedProblems = () => bedErrors.map((b) => `bed ${b.bed}: ${isPodpathError(b.error) ? b.error.shortMessage : String(b.error)}`).join('; ');
      if (!options.dryRun && !written) {
        // Nothing ran: a results folder of harness errors would read as a real (and, to diff, unchanged) run.
        await write(io.stderr, `podpath: no scenario could run, no results written: ${bedProblems()}\n`);
        if (json) await write(io.stdout, `${JSON.stringify({ ...report, written: false }, null, 2)}\n`);
        return 2;
      }
      if (options.dryRun) {
        for (const { label, plan } of plans) {
          await write(human.stdout, `\nPlan for Istio ${label}:\n${plan.render()}`);
        }
        await write(human.stdout, `\nDry run: nothing was created. ${report.targets.reduce((n, t) => n + t.scenarios.filter((s) => s.status !== 'skipped').length, 0)} scenario runs planned, ${report.totals.skipped} skipped.\n`);
      } else {
        // The table ends with the totals line (N passed, N failed, N skipped, N flaky).
        await write(human.stdout, `\n${renderTerminalTable(report, { color: wantsColor(human) })}results: ${runDir}\n`);
        if (aborted) await write(human.stderr, `podpath: run aborted (${report.run.aborted ?? 'a bed\'s lease was lost'}); the extras applied were removed and a partial report was written.\n`);
        else if (report.run.interrupted) await write(human.stderr, 'podpath: interrupted; the extras applied were removed and a partial report was written.\n');
      }
      if (json) await write(io.stdout, `${JSON.stringify(report, null, 2)}\n`);
      // Another run took a bed's lease: nothing observed after that can be trusted.
      if (aborted) return 2;
      // No bed at all (no Docker, no cluster to --reuse...) is an environment problem, not a failed check.
      const code = exitCodeFor(report);
      if (code === 1 && bedErrors.length > 0 && report.targets.every((t) => t.scenarios.every((s) => s.status !== 'failed' || (s.error?.startsWith('bed ') ?? false)))) {
        await write(io.stderr, `podpath: no scenario could run: ${bedProblems()}\n`);
        return 2;
      }
      return code;
    },
  };
}

/** The flags as given, for report.run.argv (re-run the same thing). */
function rawArgv(values: Values): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined || v === false) continue;
    for (const item of Array.isArray(v) ? v : [v]) out.push(item === true ? `--${k}` : `--${k}=${String(item)}`);
  }
  return out;
}

export const runCommand: Command = makeRunCommand();
