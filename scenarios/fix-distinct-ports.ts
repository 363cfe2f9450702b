import { fixScenario } from './common.ts';

/** Seed fix "different TCP ports": app-ext's TCP port moves to 5702 (applied over the broken app-ext). */
export default fixScenario(
  'fix-distinct-ports',
  'Moving the ExternalName to a distinct TCP port frees 5701',
  ['app-ext-externalname', 'fix-distinct-ports'],
  'The catch-all is built on 5702, which nothing in manager dials; 5701 goes back to PassthroughCluster.',
);
