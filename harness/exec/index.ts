export * from './plan.ts';
export * from './exec.ts';
