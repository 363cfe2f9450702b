import { UsageError } from '../errors/index.ts';

const UNITS: Record<string, number> = { '': 1, k: 1 << 10, kb: 1 << 10, kib: 1 << 10, m: 1 << 20, mb: 1 << 20, mib: 1 << 20, g: 1 << 30, gb: 1 << 30, gib: 1 << 30 };

/** "256M", "1GiB", "4096" → bytes (binary units). */
export function parseByteSize(flag: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined || Number(match[1]) <= 0) {
    throw new UsageError(`${flag}: '${text}' is not a size`, { hint: 'Give a positive size such as 512M, 2G or 1048576 (bytes).' });
  }
  return Math.floor(Number(match[1]) * unit);
}
