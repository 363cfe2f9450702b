/**
 * The terminal face of a suite run: a line per scenario verdict on stdout, warnings and notes on
 * stderr, a one-line progress counter on stderr when it is a terminal, and --pause-on-failure's
 * "press Enter" on stdin when it is one.
 */
import { createInterface } from 'node:readline';
import { describePaths, type ScenarioReport, type ScenarioStatus } from '../report/index.ts';
import type { SuiteEvent, SuiteSink } from '../runner/events.ts';
import { paint, write, type Io } from './output.ts';

export interface TerminalSinkOptions {
  /** Whether stdin is a terminal (pausing needs one); default: what io.stdin says. */
  stdinIsTTY?: boolean;
  /** Whether stderr is a terminal (the progress line needs one); default: what io.stderr says. */
  stderrIsTTY?: boolean;
}

const ICON: Record<ScenarioStatus, string> = { passed: '✔', failed: '✘', skipped: '-', flaky: '~', observed: '●', partial: '◐' };
const STYLE = { passed: 'green', failed: 'red', skipped: 'gray', flaky: 'yellow', observed: 'cyan', partial: 'cyan' } as const;

export function scenarioLine(s: ScenarioReport, label: string, io: Io): string {
  const head = `${paint(STYLE[s.status], `${ICON[s.status]} ${s.status.padEnd(8)}`, io.stdout)} ${s.id} [${label}]`;
  if (s.status === 'skipped') return `${head}: ${s.skipReason}\n`;
  const time = `${(s.timings.total / 1000).toFixed(1)}s`;
  const failing = s.probes.filter((p) => p.verdict === 'fail');
  const detail = s.error
    ? [s.error]
    : s.status === 'failed' || s.status === 'flaky'
      ? [...failing.map((p) => `${p.name}: path ${describePaths(p)}`), ...failing.flatMap((p) => p.mismatches.map((m) => `${p.name}: ${m}`)).slice(0, 4)]
      : [];
  return `${head} ${time}\n${detail.map((d) => `    ${d}\n`).join('')}`;
}

async function waitForEnter(io: Io, signal?: AbortSignal): Promise<void> {
  const rl = createInterface({ input: io.stdin, terminal: false });
  try {
    await new Promise<void>((resolve) => {
      rl.once('line', () => resolve());
      rl.once('close', () => resolve());
      // An interrupt ends stdin with an error (cli/main.ts); readline may pass it on.
      rl.once('error', () => resolve());
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    rl.close();
  }
}

export function terminalSink(io: Io, options: TerminalSinkOptions = {}): SuiteSink {
  const stdinIsTTY = options.stdinIsTTY ?? Boolean((io.stdin as { isTTY?: boolean }).isTTY);
  const stderrIsTTY = options.stderrIsTTY ?? Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  const clear = () => {
    if (stderrIsTTY) io.stderr.write('\r\x1b[2K');
  };
  const emit = async (event: SuiteEvent): Promise<void> => {
    switch (event.type) {
      case 'progress':
        if (stderrIsTTY) io.stderr.write(`\r\x1b[2K[${event.done}/${event.total}] ${event.text}`);
        return;
      // The progress line already names the scenario and attempt; probes are told by the verdict line.
      case 'scenario-started':
      case 'probe-observed':
        return;
      case 'verdict':
        // A dry run observes nothing: only skips are worth a line; the plan says the rest.
        if (event.planned && event.report.status !== 'skipped') return;
        clear();
        await write(io.stdout, scenarioLine(event.report, event.target, io));
        return;
      case 'message':
        clear();
        await write(io.stderr, event.level === 'hint' ? `${event.text}\n` : `podpath: ${event.level === 'warning' ? 'warning: ' : ''}${event.text}\n`);
        return;
    }
  };
  return stdinIsTTY ? { emit, pause: (signal) => waitForEnter(io, signal) } : { emit };
}
