/** Argument helpers shared by the zx flow scripts (scripts/*.ts). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../harness/errors/index.ts';

/**
 * The script's own arguments, as raw strings, whether it runs as `npx zx scripts/x.ts ...` or
 * `npx node scripts/x.ts ...` (zx's minimist argv would turn "--istio 1.30" into the number 1.3).
 */
export function scriptArgs(importMetaUrl: string, argv: readonly string[] = process.argv): string[] {
  const self = fileURLToPath(importMetaUrl);
  const at = argv.findIndex((arg, i) => i > 0 && path.resolve(arg) === self);
  return at >= 0 ? argv.slice(at + 1) : argv.slice(2);
}

/** "1.29,1.30" and repeated flags both work. */
export function splitList(values: readonly string[] | string | undefined): string[] {
  const list = values === undefined ? [] : typeof values === 'string' ? [values] : values;
  return list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function usage(script: string, message: string): UsageError {
  return new UsageError(message, { hint: `Run 'npx zx scripts/${script}.ts --help' for usage.` });
}

/** A filesystem-safe UTC stamp for grouping one flow's runs, e.g. 20261123T101500Z. */
export function flowStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
