import { fixScenario } from './common.ts';

/** Seed fix "exportTo": app-ext annotated networking.istio.io/exportTo: "." is invisible to manager. */
export default fixScenario(
  'fix-exportto-dot',
  'exportTo "." on the ExternalName keeps its listener out of manager',
  ['app-ext-externalname', 'fix-exportto-dot'],
  "Only sidecars in namespace app import app-ext, so manager's sidecar has no 0.0.0.0_5701 catch-all.",
);
