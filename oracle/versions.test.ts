import test from 'ava';
import { ORACLE_VERSIONS, oracleIstioVersion } from './versions.ts';

test('every minor stands for a patch version of itself, also when its commit is not a release', (t) => {
  for (const v of ORACLE_VERSIONS) {
    const version = oracleIstioVersion(v);
    // The proxies announce it and scenario rows match it: a label like '1.30 branch at ...' would match nothing.
    t.regex(version, /^\d+\.\d+\.\d+$/, `${v.minor}: '${version}' is not a version; set version beside release`);
    t.true(version.startsWith(`${v.minor}.`), `${v.minor}: version ${version} is another minor's`);
    if (v.version !== undefined) t.not(v.release, v.version, `${v.minor}: version repeats release; drop it`);
  }
});

test('a buildable minor has no unavailable text, an unbuildable one says why', (t) => {
  for (const v of ORACLE_VERSIONS) {
    if (v.module) t.is(v.unavailable, undefined, v.minor);
    else t.truthy(v.unavailable, v.minor);
  }
});
