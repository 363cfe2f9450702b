#!/usr/bin/env node
/**
 * zx flow: bring the podpath bed up, then show its status. Same library as `podpath up`
 * (harness/cluster), so flags and behaviour match; this script only chains the two steps.
 *
 *   node scripts/up.ts [--name podpath] [--istio 1.30] [--k8s 1.35] [--log-encoding text|json]
 *                      [--pilot-env K=V]... [--connect-timeout 1s] [--reuse] [--keep] [--dry-run]
 */
import { echo, parseArgv } from 'zx';
import { isPodpathError } from '../harness/errors/index.ts';
import { status, up } from '../harness/cluster/index.ts';
import { formatTimings, renderStatus } from '../harness/cluster/render.ts';
import { bedOptionsFrom } from '../harness/cli/commands/up.ts';
import type { Values } from '../harness/cli/command.ts';

const args = parseArgv(process.argv.slice(2), {
  string: ['name', 'istio', 'k8s', 'log-encoding', 'pilot-env', 'connect-timeout', 'allow-context'],
  boolean: ['reuse', 'keep', 'dry-run', 'skip-preload', 'help'],
});

if (args.help) {
  echo('Usage: node scripts/up.ts [podpath up flags]   (see: podpath up --help)');
  process.exit(0);
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('SIGINT')));
process.once('SIGTERM', () => controller.abort(new Error('SIGTERM')));

try {
  const values: Values = {};
  for (const [key, value] of Object.entries(args)) {
    if (key !== '_' && (typeof value === 'string' || typeof value === 'boolean' || Array.isArray(value))) values[key] = value as Values[string];
  }
  const options = bedOptionsFrom(values, controller.signal);
  const bed = await up({ ...options, onProgress: (phase, detail) => process.stderr.write(`[${phase}] ${detail}\n`) }, {}, { progress: process.stderr, isTTY: process.stderr.isTTY === true });
  // The cluster stays up; its lease goes, or the next run on it would wait for the lease to expire.
  await bed.lease.release();
  for (const warning of bed.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (bed.plan) {
    echo(bed.plan.render());
  } else {
    echo(formatTimings(bed.timings, options.reuse));
    echo(renderStatus((await status({ name: bed.name, dryRun: false, signal: controller.signal })).status));
  }
} catch (error) {
  if (!isPodpathError(error)) throw error;
  process.stderr.write(`scripts/up: ${error.shortMessage}\n${error.hint ? `${error.hint}\n` : ''}`);
  process.exitCode = error.exitCode;
}
