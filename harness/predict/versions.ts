/** `--istio 1.22,1.24` and `--istio 1.20..1.30`: which oracle minors a prediction covers. Pure. */
import { UsageError } from '../errors/index.ts';
import { ORACLE_VERSIONS } from '../../oracle/versions.ts';

export interface SelectedMinor {
  minor: string;
  /** Named on its own (not only covered by a range): if it cannot be generated, that is an error, not a row. */
  explicit: boolean;
}

const KNOWN = (): string[] => ORACLE_VERSIONS.map((v) => v.minor);

function minorOf(text: string, flag: string): string {
  const m = /^v?(\d+)\.(\d+)(\.\d+)?$/.exec(text.trim());
  const minor = m ? `${Number(m[1])}.${Number(m[2])}` : null;
  if (!minor || !KNOWN().includes(minor)) {
    throw new UsageError(`predict: ${flag} '${text}' is not an Istio minor the oracle knows`, { hint: `Known minors: ${KNOWN().join(', ')} (a range: --istio ${KNOWN()[0]}..${KNOWN().at(-1)}).` });
  }
  return minor;
}

function order(minor: string): number {
  return KNOWN().indexOf(minor);
}

/** The minors in version order, each once; a minor both named and inside a range counts as named. */
export function selectMinors(text: string): SelectedMinor[] {
  const picked = new Map<string, boolean>();
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError('predict: --istio needs at least one minor', { hint: `e.g. --istio 1.24 or --istio ${KNOWN()[0]}..${KNOWN().at(-1)}` });
  for (const item of items) {
    const range = item.split('..');
    if (range.length === 2) {
      const [lo, hi] = range.map((r) => order(minorOf(r, '--istio')));
      if (lo > hi) throw new UsageError(`predict: --istio ${item} runs backwards`, { hint: `e.g. --istio ${KNOWN()[0]}..${KNOWN().at(-1)}` });
      for (const minor of KNOWN().slice(lo, hi + 1)) if (!picked.has(minor)) picked.set(minor, false);
    } else if (range.length === 1) {
      picked.set(minorOf(item, '--istio'), true);
    } else {
      throw new UsageError(`predict: --istio '${item}' is not a minor or a range A..B`);
    }
  }
  return [...picked].map(([minor, explicit]) => ({ minor, explicit })).sort((a, b) => order(a.minor) - order(b.minor));
}
