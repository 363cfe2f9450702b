/**
 * Placeholder for the real istiod oracle generator (Go build per minor, cached runs), which lives
 * on another branch: this checkout cannot generate any version, and says so. The integration
 * replaces this file with the real one, which exports the same function.
 */
import type { DumpGenerator } from './types.ts';

export interface OracleGeneratorOptions {
  /** Where builds and generated dumps are cached (the podpath cache). */
  cacheRoot: string;
  /** Never build: only minors already built are ready. */
  offlineOnly?: boolean;
  onProgress?: (message: string) => void;
}

const REASON = 'oracle generator not built in this checkout';

export function createOracleGenerator(_options: OracleGeneratorOptions): DumpGenerator {
  return {
    availability: async () => ({ state: 'unavailable', reason: REASON }),
    generate: async () => {
      throw new Error(REASON);
    },
  };
}
