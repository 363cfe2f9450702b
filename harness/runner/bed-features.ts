/**
 * What a bed really is, as the settings that decide a probe's path: read from istiod's Deployment
 * env and the `istio` ConfigMap's mesh config when a bed opens, with Istio's defaults (per version,
 * checked in istio/istio at the release tags) for whatever the bed does not set. Pure: the reads
 * happen in openLiveBed, this module only turns them into features.
 */
import { parse as parseYaml } from 'yaml';
import type { KubeDocument } from '../kube/index.ts';
import { envBool, parseIstioVersion, type IstioVersion } from '../lint/index.ts';

export type OutboundTrafficPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY';

export interface FeatureValues {
  /** ExternalName Services are aliases (no listener of their own for their ports). */
  externalNameAlias: boolean;
  /** Sidecars capture DNS (mesh-wide proxyMetadata ISTIO_META_DNS_CAPTURE). */
  dnsCapture: boolean;
  /** Auto-allocated ServiceEntry addresses are enabled for proxies (ISTIO_META_DNS_AUTO_ALLOCATE, or istiod's PILOT_ENABLE_IP_AUTOALLOCATE from 1.24). */
  dnsAutoAllocate: boolean;
  outboundTrafficPolicy: OutboundTrafficPolicy;
  /** meshConfig.connectTimeout as written, e.g. "1s". */
  connectTimeout: string;
}

export type FeatureName = keyof FeatureValues;
export const FEATURE_NAMES: readonly FeatureName[] = ['externalNameAlias', 'dnsCapture', 'dnsAutoAllocate', 'outboundTrafficPolicy', 'connectTimeout'];

/** 'istiod': read from the live bed; otherwise the version's default, or a behaviour no setting changes there. */
export type FeatureSource = 'istiod' | `default for Istio ${string}` | `not configurable in Istio ${string}`;

export interface BedFeatures extends FeatureValues {
  source: Record<FeatureName, FeatureSource>;
}

/** A row's feature condition: every named feature must have this value. */
export type FeatureCondition = Partial<FeatureValues>;

/** What the bed's istiod runs with, as read: its container env (plain values only) and its mesh config. */
export interface IstiodSettings {
  env: Record<string, string>;
  /** meshConfig as parsed from the `istio` ConfigMap's `mesh` key ({} when it sets nothing). */
  mesh: Record<string, unknown>;
}

export const ISTIOD_NAMESPACE = 'istio-system';
export const ISTIOD_DEPLOYMENT = 'istiod';
export const ISTIOD_CONTAINER = 'discovery';
export const MESH_CONFIGMAP = 'istio';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Thrown when the bed's istiod settings cannot be read as expected: the runner falls back to version rows. */
export class FeaturesUnreadable extends Error {
  override readonly name = 'FeaturesUnreadable';
}

/**
 * istiod's settings from the istio-system Deployments and the `istio` ConfigMap's data. Env set
 * through valueFrom is left out (its value is not in the Deployment).
 */
export function istiodSettings(deployments: readonly KubeDocument[], meshConfigMap: Record<string, string> | null): IstiodSettings {
  const istiod = deployments.find((d) => d.kind === 'Deployment' && d.metadata.name === ISTIOD_DEPLOYMENT);
  if (!istiod) throw new FeaturesUnreadable(`no Deployment ${ISTIOD_NAMESPACE}/${ISTIOD_DEPLOYMENT}`);
  const spec = isRecord(istiod.spec) ? istiod.spec : {};
  const template = isRecord(spec.template) && isRecord(spec.template.spec) ? spec.template.spec : {};
  const containers = Array.isArray(template.containers) ? template.containers.filter(isRecord) : [];
  const discovery = containers.find((c) => c.name === ISTIOD_CONTAINER);
  if (!discovery) throw new FeaturesUnreadable(`Deployment ${ISTIOD_NAMESPACE}/${ISTIOD_DEPLOYMENT} has no container '${ISTIOD_CONTAINER}'`);
  const env: Record<string, string> = {};
  for (const e of Array.isArray(discovery.env) ? discovery.env.filter(isRecord) : []) {
    if (typeof e.name === 'string' && typeof e.value === 'string') env[e.name] = e.value;
  }
  if (meshConfigMap === null) throw new FeaturesUnreadable(`no ConfigMap ${ISTIOD_NAMESPACE}/${MESH_CONFIGMAP}`);
  let mesh: unknown;
  try {
    mesh = parseYaml(meshConfigMap.mesh ?? '') ?? {};
  } catch (error) {
    throw new FeaturesUnreadable(`ConfigMap ${ISTIOD_NAMESPACE}/${MESH_CONFIGMAP} key 'mesh' is not YAML (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(mesh)) throw new FeaturesUnreadable(`ConfigMap ${ISTIOD_NAMESPACE}/${MESH_CONFIGMAP} key 'mesh' is not a mapping`);
  return { env, mesh };
}

function atLeast(v: IstioVersion, minor: number): boolean {
  return v.major > 1 || (v.major === 1 && v.minor >= minor);
}

function proxyMetadata(mesh: Record<string, unknown>): Record<string, string> {
  const dc = isRecord(mesh.defaultConfig) ? mesh.defaultConfig : {};
  const md = isRecord(dc.proxyMetadata) ? dc.proxyMetadata : {};
  return Object.fromEntries(Object.entries(md).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The bed's features on this Istio version: read where `settings` sets them, the version's
 * default elsewhere. null when the version is not one (nothing to default from).
 */
export function bedFeatures(istio: string, settings: IstiodSettings): BedFeatures | null {
  const v = parseIstioVersion(istio);
  if (v === null) return null;
  const minor = `${v.major}.${v.minor}`;
  const dflt: FeatureSource = `default for Istio ${minor}`;
  const fixed: FeatureSource = `not configurable in Istio ${minor}`;
  const source = {} as Record<FeatureName, FeatureSource>;

  let externalNameAlias: boolean;
  const aliasEnv = envBool(settings.env.ENABLE_EXTERNAL_NAME_ALIAS);
  if (!atLeast(v, 20)) {
    // 1.19.0 pilot/pkg/features has no ENABLE_EXTERNAL_NAME_ALIAS: ExternalName ports always get listeners.
    externalNameAlias = false;
    source.externalNameAlias = fixed;
  } else if (!atLeast(v, 24)) {
    // 1.20.0 pilot/pkg/features/pilot.go registers ENABLE_EXTERNAL_NAME_ALIAS default false; 1.21.0–1.23.x default true.
    externalNameAlias = aliasEnv ?? atLeast(v, 21);
    source.externalNameAlias = aliasEnv === undefined ? dflt : 'istiod';
  } else {
    // 1.24.0 pilot/pkg/serviceregistry/kube/conversion.go aliases every ExternalName; pilot/pkg/features no longer registers the env.
    externalNameAlias = true;
    source.externalNameAlias = fixed;
  }

  const md = proxyMetadata(settings.mesh);
  // pkg/model/proxy.go (pilot/pkg/model/context.go before 1.22) NodeMetadata DNS_CAPTURE: a StringBool, unset = false.
  const capture = envBool(md.ISTIO_META_DNS_CAPTURE);
  const dnsCapture = capture ?? false;
  source.dnsCapture = capture === undefined ? dflt : 'istiod';

  // pilot/pkg/model/service.go GetAddressForProxy: DNS_AUTO_ALLOCATE metadata; from 1.24.0 nodeUsesAutoallocatedIPs also takes PILOT_ENABLE_IP_AUTOALLOCATE.
  const metaAllocate = envBool(md.ISTIO_META_DNS_AUTO_ALLOCATE);
  // pilot/pkg/features/pilot.go PILOT_ENABLE_IP_AUTOALLOCATE: default false in 1.24.0, true from 1.25.0.
  const pilotAllocate = atLeast(v, 24) ? envBool(settings.env.PILOT_ENABLE_IP_AUTOALLOCATE) : undefined;
  const pilotDefault = atLeast(v, 25);
  const dnsAutoAllocate = (metaAllocate ?? false) || (atLeast(v, 24) && (pilotAllocate ?? pilotDefault));
  source.dnsAutoAllocate = metaAllocate === undefined && pilotAllocate === undefined ? dflt : 'istiod';

  const otp = isRecord(settings.mesh.outboundTrafficPolicy) ? settings.mesh.outboundTrafficPolicy.mode : undefined;
  // pkg/config/mesh/mesh.go DefaultMeshConfig: OutboundTrafficPolicy ALLOW_ANY.
  const outboundTrafficPolicy: OutboundTrafficPolicy = otp === 'REGISTRY_ONLY' ? 'REGISTRY_ONLY' : 'ALLOW_ANY';
  source.outboundTrafficPolicy = otp === 'REGISTRY_ONLY' || otp === 'ALLOW_ANY' ? 'istiod' : dflt;

  const ct = settings.mesh.connectTimeout;
  // pkg/config/mesh/mesh.go DefaultMeshConfig: ConnectTimeout 10s.
  const connectTimeout = typeof ct === 'string' && ct !== '' ? ct : '10s';
  source.connectTimeout = typeof ct === 'string' && ct !== '' ? 'istiod' : dflt;

  return { externalNameAlias, dnsCapture, dnsAutoAllocate, outboundTrafficPolicy, connectTimeout, source };
}

/** Istio's defaults on a version, as if istiod set nothing (what the oracle's goldens are built with, env aside). */
export function defaultFeatures(istio: string, env: Record<string, string> = {}): BedFeatures | null {
  return bedFeatures(istio, { env, mesh: {} });
}

/** Whether every feature the condition names has that value on the bed. */
export function featuresMatch(condition: FeatureCondition, features: FeatureValues): boolean {
  return (Object.entries(condition) as Array<[FeatureName, FeatureValues[FeatureName]]>).every(([k, v]) => features[k] === v);
}

/** `externalNameAlias=false, dnsCapture=true` */
export function describeFeatureCondition(condition: FeatureCondition): string {
  return (Object.entries(condition) as Array<[FeatureName, unknown]>).map(([k, v]) => `${k}=${String(v)}`).join(', ');
}

/** One line: each feature (or only those named) with where its value comes from. */
export function describeFeatures(features: BedFeatures, only: readonly FeatureName[] = FEATURE_NAMES): string {
  return FEATURE_NAMES.filter((k) => only.includes(k)).map((k) => `${k}=${String(features[k])} (${features.source[k]})`).join(', ');
}
