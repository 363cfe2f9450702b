#!/usr/bin/env node
/**
 * zx flow: delete podpath kind clusters. Same library as `podpath down` (harness/cluster), so
 * the same safety rule holds: only clusters carrying the podpath marker are deleted.
 *
 *   node scripts/down.ts [--name podpath]... [--allow-context NAME] [--dry-run]
 */
import { echo, parseArgv } from 'zx';
import { isPodpathError } from '../harness/errors/index.ts';
import { down } from '../harness/cluster/index.ts';

const args = parseArgv(process.argv.slice(2), { string: ['name', 'allow-context'], boolean: ['dry-run', 'help'] });

if (args.help) {
  echo('Usage: node scripts/down.ts [--name NAME]... [--allow-context NAME] [--dry-run]');
  process.exit(0);
}

const names: string[] = ([] as unknown[]).concat(args.name ?? 'podpath').map(String);
const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('SIGINT')));

for (const name of names) {
  try {
    const allowContext = typeof args['allow-context'] === 'string' ? args['allow-context'] : undefined;
    const result = await down({ name, dryRun: args['dry-run'] === true, allowContext, signal: controller.signal });
    echo(result.plan ? result.plan.render() : result.message);
  } catch (error) {
    if (!isPodpathError(error)) throw error;
    process.stderr.write(`scripts/down: ${name}: ${error.shortMessage}\n${error.hint ? `${error.hint}\n` : ''}`);
    process.exitCode = error.exitCode;
  }
}
