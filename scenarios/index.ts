/** The seed suite, in the order a run plays it: baseline first, then the incident, its fixes, then HTTP. */
import type { Scenario } from '../harness/runner/index.ts';
import tcpPodIpBaseline from './tcp-pod-ip-baseline.ts';
import externalNameCollision from './externalname-5701-collision.ts';
import externalNameCollisionAliasOff from './externalname-5701-collision-alias-off.ts';
import serviceEntryCollision from './serviceentry-dns-5701-collision.ts';
import fixDropPort from './fix-drop-port.ts';
import fixExportToDot from './fix-exportto-dot.ts';
import fixSidecarEgress from './fix-sidecar-egress.ts';
import fixVirtualService from './fix-virtualservice.ts';
import fixDistinctPorts from './fix-distinct-ports.ts';
import httpClusterIpPermissive from './http-pod-ip-clusterip-permissive.ts';
import httpClusterIpStrict from './http-pod-ip-clusterip-strict.ts';
import httpHeadlessPermissive from './http-pod-ip-headless-permissive.ts';
import httpHeadlessStrict from './http-pod-ip-headless-strict.ts';

export const SCENARIOS: readonly Scenario[] = [
  tcpPodIpBaseline,
  externalNameCollision,
  externalNameCollisionAliasOff,
  serviceEntryCollision,
  fixDropPort,
  fixExportToDot,
  fixSidecarEgress,
  fixVirtualService,
  fixDistinctPorts,
  httpClusterIpPermissive,
  httpClusterIpStrict,
  httpHeadlessPermissive,
  httpHeadlessStrict,
];
