import { scenario } from '../harness/runner/index.ts';
import { ALIAS_OFF, ALIAS_ON, baselineRows, collision, MEMBER_TO_MEMBER, REGISTRY_ONLY, registryOnlyTcp } from './common.ts';

/**
 * The Hazelcast ExternalName incident: an ExternalName Service app-ext in namespace app, ports 8080 and
 * 5701, CNAME to idle. Where istiod turns ExternalName ports into listeners, every sidecar gets a
 * 0.0.0.0_5701 catch-all and manager's pod-IP traffic on 5701 goes to app-ext's STRICT_DNS cluster
 * (idle, which does not bind 5701): `0 UF,URX`, no server entry, connection closed after connect.
 *
 * Versions (istio/istio release notes 1.20, 1.21, 1.24; pilot/pkg/serviceregistry/kube/conversion.go):
 * - <= 1.20: listener by default; 1.20 with ENABLE_EXTERNAL_NAME_ALIAS=true is an alias (baseline).
 * - 1.21–1.23: alias by default (baseline); ENABLE_EXTERNAL_NAME_ALIAS=false brings the listener back
 *   (that bed is externalname-5701-collision-alias-off).
 * - >= 1.24: alias whatever the env: 1.24.0's pilot/pkg/serviceregistry/kube/conversion.go sets Alias
 *   for every ExternalName and the flag is gone (the oracle's goldens show no 0.0.0.0_5701 with it set).
 * The bed's istiod says which of these it is (its env and version: the externalNameAlias feature),
 * so the feature rows decide; the version rows after them are the fallback for a bed whose
 * istiod could not be read, keyed on the env the bed was installed with.
 */
export default scenario('externalname-5701-collision', 'An ExternalName Service declaring 5701 captures pod-IP traffic on 5701')
  .seed('Hazelcast ExternalName incident (app-ext → idle)')
  .apply('app-ext-externalname')
  .probe({ ...MEMBER_TO_MEMBER })
  .when({ externalNameAlias: false }, collision('*'))
  .when({ ...REGISTRY_ONLY }, registryOnlyTcp())
  .when({ externalNameAlias: true }, baselineRows()[1], '>=1.8')
  .expect('>=1.24', { ...baselineRows()[1], pilotEnv: { ...ALIAS_OFF } })
  .expect('>=1.20 <1.21', { ...baselineRows()[1], pilotEnv: { ...ALIAS_ON } })
  .expect('<=1.20', collision('<=1.20'))
  .expect('>=1.21 <1.24', { ...collision('>=1.21 <1.24'), pilotEnv: { ...ALIAS_OFF } })
  .expect('>=1.21', baselineRows()[1])
  .build();
