#!/usr/bin/env -S npx zx
// Nightly matrix: every supported Istio version, one cluster and one results dir each, then a
// combined summary. Usage: npx zx scripts/nightly.ts --help   (the flow lives in lib/nightly.ts)
import { echo } from 'zx';
import { processIo } from '../harness/cli/output.ts';
import { terminalSink } from '../harness/cli/suite-output.ts';
import { isPodpathError } from '../harness/errors/index.ts';
import { ISTIO_MINORS, resolveIstio } from '../harness/cluster/index.ts';
import { runSuite } from '../harness/runner/index.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { scriptArgs } from './lib/args.ts';
import { NIGHTLY_HELP, parseNightlyArgs, runNightly } from './lib/nightly.ts';

// Ctrl-C: the runner cleans up the current version's cluster and the flow stops there.
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

try {
  const options = parseNightlyArgs(scriptArgs(import.meta.url), () => ISTIO_MINORS.map((m) => m.minor));
  if (options.help) {
    echo(NIGHTLY_HELP);
  } else {
    process.exitCode = await runNightly(options, { runSuite: (suiteOptions, io) => runSuite({ ...suiteOptions, signal: controller.signal }, terminalSink(io), { scenarios: SCENARIOS }), resolveIstio, now: () => new Date() }, processIo());
  }
} catch (error) {
  if (!isPodpathError(error)) throw error;
  process.stderr.write(`nightly: ${error.shortMessage}\n${error.hint ? `${error.hint}\n` : ''}`);
  process.exitCode = error.exitCode;
}
