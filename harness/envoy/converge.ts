/**
 * Predicates for waiting on config propagation (KubeClient.waitForConfig): "this listener and
 * cluster are there, that one is gone". The state string is what a timeout message shows.
 */
import { isPodpathError } from '../errors/index.ts';
import { loadConfigDump } from './load.ts';

export interface ConfigExpectation {
  listeners?: string[];
  clusters?: string[];
  absentListeners?: string[];
  absentClusters?: string[];
}

export function convergedOn(expect: ConfigExpectation): (dump: unknown) => { ok: boolean; state: string } {
  return (json) => {
    let dump;
    try {
      dump = loadConfigDump(json);
    } catch (error) {
      if (isPodpathError(error)) return { ok: false, state: error.shortMessage };
      throw error;
    }
    const wrong: string[] = [];
    const right: string[] = [];
    const check = (names: string[] | undefined, kind: string, has: (n: string) => boolean, wanted: boolean) => {
      for (const name of names ?? []) {
        const ok = has(name) === wanted;
        (ok ? right : wrong).push(`${kind} ${name} ${has(name) ? 'present' : 'absent'}`);
      }
    };
    check(expect.listeners, 'listener', (n) => dump.containsListener(n), true);
    check(expect.clusters, 'cluster', (n) => dump.containsCluster(n), true);
    check(expect.absentListeners, 'listener', (n) => dump.containsListener(n), false);
    check(expect.absentClusters, 'cluster', (n) => dump.containsCluster(n), false);
    const ok = wrong.length === 0;
    return { ok, state: ok ? right.join('; ') || 'nothing expected' : `waiting: ${wrong.join('; ')}` };
  };
}
