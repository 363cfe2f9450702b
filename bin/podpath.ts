#!/usr/bin/env node
import { enableCompileCache } from 'node:module';

// The composition root: the only place that joins the CLI (harness/cli) with the scenario catalogue
// (scenarios/), so harness/ never imports scenarios/ and scenarios/ can depend on harness/runner.
// Type stripping every .ts module costs about a second per start on a busy machine; Node's on-disk
// compile cache keeps the stripped code (nodejs/node doc/api/module.md, enableCompileCache), so load the CLI after enabling it.
enableCompileCache();
const { main } = await import('../harness/cli/main.ts');
// Only `podpath run` plays the catalogue; loading it pulls in the runner and the Kubernetes client
// (over a thousand modules), which would dominate the start of an offline command such as `logs`.
const command = process.argv[2];
const catalogue = command === 'run' ? { scenarios: (await import('../scenarios/index.ts')).SCENARIOS } : undefined;

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

process.exitCode = await main(process.argv.slice(2), undefined, controller.signal, catalogue);
