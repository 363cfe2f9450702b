import { fixScenario } from './common.ts';

/** Seed fix "Sidecar resource": a Sidecar in manager limits egress hosts; app-ext stays broken elsewhere. */
export default fixScenario(
  'fix-sidecar-egress',
  'A Sidecar limiting egress in manager keeps the catch-all out',
  ['app-ext-externalname', 'fix-sidecar-egress'],
  "manager's egress hosts are ./* and istio-system/*, so app-ext (namespace app) is not imported.",
);
