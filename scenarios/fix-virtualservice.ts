import { fixScenario } from './common.ts';

/** Seed fix "no ExternalName": a VirtualService sends app's traffic to idle; routes change, listeners do not. */
export default fixScenario(
  'fix-virtualservice',
  'A VirtualService instead of the ExternalName leaves pod-IP traffic alone',
  ['fix-virtualservice'],
  'No ExternalName exists, so no 0.0.0.0_5701 listener; the VirtualService only adds routes for app on 8080.',
);
