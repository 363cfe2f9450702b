import { fixScenario } from './common.ts';

/** Seed fix "no 5701 port": app-ext keeps 8080 only (fix-drop-port is applied over the broken app-ext). */
export default fixScenario(
  'fix-drop-port',
  'Dropping 5701 from the ExternalName restores PassthroughCluster',
  ['app-ext-externalname', 'fix-drop-port'],
  'Without a TCP port on app-ext, istiod builds no 0.0.0.0_5701 listener.',
);
