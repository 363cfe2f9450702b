#!/usr/bin/env node
// Merges a matrix nightly (one CI job per Istio version) into one summary.
// Usage: npx node scripts/nightly-summary.ts --help   (the work lives in lib/nightly-summary.ts)
import { processIo } from '../harness/cli/output.ts';
import { isPodpathError } from '../harness/errors/index.ts';
import { scriptArgs } from './lib/args.ts';
import { NIGHTLY_SUMMARY_HELP, parseSummaryArgs, runNightlySummary } from './lib/nightly-summary.ts';

try {
  const options = parseSummaryArgs(scriptArgs(import.meta.url));
  if (options.help) process.stdout.write(NIGHTLY_SUMMARY_HELP);
  else process.exitCode = await runNightlySummary(options, processIo());
} catch (error) {
  if (!isPodpathError(error)) throw error;
  process.stderr.write(`nightly-summary: ${error.shortMessage}\n${error.hint ? `${error.hint}\n` : ''}`);
  process.exitCode = error.exitCode;
}
