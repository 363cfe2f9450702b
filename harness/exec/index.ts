export * from './plan.ts';
export * from './exec.ts';
export { ExecaExec, ExecError } from './execa-exec.ts';
