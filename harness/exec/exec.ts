import type { Plan } from './plan.ts';
import { formatCommand } from './plan.ts';

export interface ExecOptions {
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Stream the child's output to the user (long operations such as kind create). */
  inherit?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * How podpath starts child processes (kind, istioctl, docker). Always an argument array,
 * never a shell string. The live implementation uses execa; dry runs record into a Plan.
 */
export interface Exec {
  run(file: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
}

/** Records every command into the plan and pretends it succeeded with empty output. */
export class DryRunExec implements Exec {
  readonly plan: Plan;

  constructor(plan: Plan) {
    this.plan = plan;
  }

  async run(file: string, args: readonly string[]): Promise<ExecResult> {
    this.plan.add('exec', formatCommand(file, args));
    return { stdout: '', stderr: '', exitCode: 0 };
  }
}
