#!/usr/bin/env -S npx zx
// Upgrade validation: run on Istio A, upgrade the control plane to B (in place or --canary),
// restart workloads, run again, diff. Usage: npx zx scripts/upgrade.ts --from 1.29 --to 1.30
import { echo } from 'zx';
import { processIo } from '../harness/cli/output.ts';
import { terminalSink } from '../harness/cli/suite-output.ts';
import { isPodpathError } from '../harness/errors/index.ts';
import { resolveIstio, up, upgradeIstio } from '../harness/cluster/index.ts';
import { runSuite } from '../harness/runner/index.ts';
import { SCENARIOS } from '../scenarios/index.ts';
import { scriptArgs } from './lib/args.ts';
import { nodeImageKubernetes, parseUpgradeArgs, runUpgrade, UPGRADE_HELP } from './lib/upgrade.ts';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

try {
  const options = parseUpgradeArgs(scriptArgs(import.meta.url));
  if (options.help) {
    echo(UPGRADE_HELP);
  } else {
    process.exitCode = await runUpgrade(
      options,
      {
        resolveIstio,
        nodeKubernetes: (bed) => nodeImageKubernetes(bed.marker.nodeImage || bed.istio.node.image),
        up: (bedOptions) => up({ ...bedOptions, signal: controller.signal }),
        upgradeIstio,
        runSuite: (suiteOptions, io) => runSuite({ ...suiteOptions, signal: controller.signal }, terminalSink(io), { scenarios: SCENARIOS }),
        now: () => new Date(),
      },
      processIo(),
    );
  }
} catch (error) {
  if (!isPodpathError(error)) throw error;
  process.stderr.write(`upgrade: ${error.shortMessage}\n${error.hint ? `${error.hint}\n` : ''}`);
  process.exitCode = error.exitCode;
}
