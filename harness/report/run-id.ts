import { randomBytes } from 'node:crypto';

/** e.g. 20261123T101500.123Z-3f9a: UTC so ids sort by time across machines; no ':' for Windows and tar. */
export const RUN_ID_PATTERN = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{4}$/;

/**
 * A run id that sorts by start time (to the millisecond) and stays unique for two runs in the
 * same millisecond thanks to the random suffix; writeRunResults refuses to overwrite anyway.
 */
export function newRunId(now: Date = new Date(), random: (bytes: number) => Buffer = randomBytes): string {
  if (Number.isNaN(now.getTime())) throw new RangeError('newRunId: invalid date');
  const stamp = now.toISOString().replace(/[-:]/g, '');
  return `${stamp}-${random(2).toString('hex')}`;
}

export function isRunId(value: string): boolean {
  return RUN_ID_PATTERN.test(value);
}
