/**
 * A Plan records what podpath would do, in order, without doing it: `--dry-run` on up, down
 * and run prints it. Child processes, Kubernetes API calls and file writes all record here, so
 * the printed plan is the whole list of side effects.
 */

export type PlanStepKind = 'exec' | 'api' | 'file' | 'wait' | 'note';

export interface PlanStep {
  kind: PlanStepKind;
  /** One line a person can read and, for exec steps, paste into a shell. */
  text: string;
}

export class Plan {
  readonly steps: PlanStep[] = [];

  add(kind: PlanStepKind, text: string): void {
    this.steps.push({ kind, text });
  }

  /** Human rendering: one numbered line per step. */
  render(): string {
    const width = String(this.steps.length).length;
    return this.steps.map((step, i) => `${String(i + 1).padStart(width)}. [${step.kind}] ${step.text}`).join('\n') + (this.steps.length ? '\n' : '');
  }
}

/** Quote an argument for display so an exec step can be pasted into a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function formatCommand(file: string, args: readonly string[]): string {
  return [file, ...args].map(shellQuote).join(' ');
}
