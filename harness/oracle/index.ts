export * from './types.ts';
export { OracleError, type OracleFailure } from './errors.ts';
export { createOracleGenerator, runOracle, type OracleGenerator, type OracleGeneratorOptions } from './generator.ts';
export { buildOracle, oracleCacheDir, oracleLayout, ORACLE_SOURCE_ROOT, type BuildOptions, type BuiltOracle } from './build.ts';
export { dumpCacheKey } from './dump-cache.ts';
export { formatElapsed, realClock, type ProgressClock } from './progress.ts';
