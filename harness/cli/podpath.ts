#!/usr/bin/env node
import { main } from './main.ts';

const controller = new AbortController();
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts += 1;
    // First Ctrl-C: let the command clean up what it created. Second: leave now.
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\npodpath: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}, cleaning up (press Ctrl-C again to leave now)\n`);
    controller.abort(new Error(signal));
  });
}

process.exitCode = await main(process.argv.slice(2), undefined, controller.signal);
