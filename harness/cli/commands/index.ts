import type { Command } from '../command.ts';
import { logsCommand } from './logs.ts';
import { explainCommand } from './explain.ts';
import { lintCommand } from './lint.ts';
import { upCommand } from './up.ts';
import { downCommand } from './down.ts';
import { statusCommand } from './status.ts';
import { runCommand } from './run.ts';
import { reportCommand } from './report.ts';
import { diffCommand } from './diff.ts';
import { reproCommand } from './repro.ts';

/** The command table, in the order --help lists it: offline tools first, then the live bed, then runs. */
export const commands: readonly Command[] = [
  logsCommand,
  explainCommand,
  lintCommand,
  upCommand,
  downCommand,
  statusCommand,
  runCommand,
  reportCommand,
  diffCommand,
  reproCommand,
];
