/**
 * Placeholder for the real istiod oracle generator (Go build per minor, cached runs), which lives
 * on another branch: this checkout cannot generate any version, and says so. The integration
 * replaces this file with the real one, which exports the same function.
 */
import type { DumpGenerator } from './types.ts';

export interface OracleGeneratorOptions {
  /** PATH (to find `go`) and the cache location. */
  env?: NodeJS.ProcessEnv;
  /** Where builds and generated dumps are cached: $XDG_CACHE_HOME/podpath/oracle. */
  cacheDir?: string;
  /** Never build: only minors already built are ready. */
  offlineOnly?: boolean;
}

const REASON = 'oracle generator not built in this checkout';

export function createOracleGenerator(_options: OracleGeneratorOptions = {}): DumpGenerator {
  return {
    availability: async () => ({ state: 'unavailable', reason: REASON }),
    generate: async () => {
      throw new Error(REASON);
    },
  };
}
