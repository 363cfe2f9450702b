import { scenario } from '../harness/runner/index.ts';
import { ALIAS_OFF, baselineRows, collision, MEMBER_TO_MEMBER, REGISTRY_ONLY, registryOnlyTcp } from './common.ts';

/**
 * The seed collision on 1.21–1.23, where it needs the old behaviour back: istiod installed with
 * ENABLE_EXTERNAL_NAME_ALIAS=false (its own bed). On <= 1.20 the same env is the default.
 * Judged by what the bed's istiod really runs with: a bed asked for the env but running without
 * it (a reused one, say) aliases, and gets the baseline; the version row is the fallback.
 */
export default scenario('externalname-5701-collision-alias-off', 'With ENABLE_EXTERNAL_NAME_ALIAS=false the ExternalName collision comes back')
  .seed('Hazelcast ExternalName incident (app-ext → idle)')
  .mesh({ pilotEnv: { ...ALIAS_OFF } })
  .appliesTo('<1.24')
  .apply('app-ext-externalname')
  .probe({ ...MEMBER_TO_MEMBER })
  .when({ externalNameAlias: false }, collision('*'))
  .when({ ...REGISTRY_ONLY }, registryOnlyTcp())
  .when({ externalNameAlias: true }, baselineRows()[1], '>=1.8')
  .expect('<1.24', collision('<1.24'))
  .build();
