import type { AccessLogEntry, ClusterRef } from './types.ts';

/**
 * A copy that does not share memory with the line: values are slices of 1 MiB input chunks, and
 * keeping a slice keeps its whole chunk alive. Concatenation then trimming makes V8 flatten a
 * new short string instead of slicing the chunk again.
 */
export function detach(value: string): string {
  return `${value} `.trimEnd();
}

export interface SummaryRow { cluster: string | null; kind: ClusterRef['kind']; direction: ClusterRef['direction']; flags: string[]; count: number; first: string | null; last: string | null }

/** Distinct (cluster, flags) pairs kept; a real mesh has hundreds, a hostile log can have millions. */
export const DEFAULT_SUMMARY_ROWS = 1000;

/**
 * Counts entries by (cluster, flags): memory is bounded by maxRows, not by lines nor by distinct
 * pairs. Once maxRows pairs are kept, entries of a pair not yet seen are counted in `other`.
 */
export class Summary {
  private readonly rows = new Map<string, SummaryRow>();
  readonly maxRows: number;
  total = 0;
  /** Entries whose pair arrived after maxRows distinct pairs were kept. */
  other = 0;

  constructor(options: { maxRows?: number } = {}) {
    this.maxRows = options.maxRows ?? DEFAULT_SUMMARY_ROWS;
  }

  add(e: AccessLogEntry): void {
    this.total++;
    const key = `${e.upstreamCluster ?? '-'}\t${e.responseFlags.join(',')}`;
    const row = this.rows.get(key);
    if (row === undefined) {
      if (this.rows.size >= this.maxRows) {
        this.other++;
        return;
      }
      const time = e.startTime === null ? null : detach(e.startTime);
      this.rows.set(key, { cluster: e.upstreamCluster === null ? null : detach(e.upstreamCluster), kind: e.cluster.kind, direction: e.cluster.direction, flags: e.responseFlags.map(detach), count: 1, first: time, last: time });
      return;
    }
    row.count++;
    if (e.startTime !== null) {
      if (row.first === null || e.startTime < row.first) row.first = detach(e.startTime);
      if (row.last === null || e.startTime > row.last) row.last = detach(e.startTime);
    }
  }

  /** Most frequent first; ties by cluster name for a stable order. */
  result(): SummaryRow[] {
    return [...this.rows.values()].sort((a, b) => b.count - a.count || (a.cluster ?? '').localeCompare(b.cluster ?? '') || a.flags.join(',').localeCompare(b.flags.join(',')));
  }
}
