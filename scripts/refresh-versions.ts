#!/usr/bin/env node
// Rebuilds harness/cluster/versions.json from upstream releases. Usage: npm run refresh-versions -- --help
// (the work lives in lib/refresh-versions.ts, tested against a fixture server on 127.0.0.1).
import { processIo } from '../harness/cli/output.ts';
import { isPodpathError } from '../harness/errors/index.ts';
import { scriptArgs } from './lib/args.ts';
import { parseRefreshArgs, REFRESH_HELP, runRefresh } from './lib/refresh-versions.ts';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

try {
  const options = parseRefreshArgs(scriptArgs(import.meta.url), process.env, process.cwd());
  if (options.help) process.stdout.write(REFRESH_HELP);
  else process.exitCode = await runRefresh(options, { fetch: (url, init) => fetch(url, init), now: () => new Date(), signal: controller.signal }, processIo());
} catch (error) {
  if (controller.signal.aborted) process.exitCode = 130;
  else if (!isPodpathError(error)) throw error;
  else {
    process.stderr.write(`refresh-versions: ${error.shortMessage}\n${error.hint ? `${error.hint}\n` : ''}`);
    process.exitCode = error.exitCode;
  }
}
