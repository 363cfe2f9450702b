/**
 * What podpath knows about Istio releases, the Kubernetes versions each supports, and the kind
 * node image to run them on. Every fact names where it came from; facts that could not be
 * cross-checked are marked `verified: false` and surface as warnings when used.
 */
import { UsageError } from '../errors/index.ts';
import { AGENT_IMAGE } from '../../manifests/topology.ts';

/** A kindest/node image pinned by digest, with the kind release whose notes published it. */
export interface KindNodeImage {
  /** Kubernetes version inside, e.g. '1.36.1'. */
  kubernetes: string;
  image: string;
  /** kind release the image was built for; kind supports an image only with its own release. */
  kind: string;
  verified: boolean;
  source: string;
}

export interface IstioMinor {
  minor: string;
  /** Known patch versions, latest first. */
  patches: string[];
  /** False while the minor was still supported when the list was taken: newer patches may exist. */
  patchesComplete: boolean;
  patchesAsOf: string;
  /** Kubernetes minors Istio supports for this release (istio.io supported-releases table). */
  kubernetes: string[];
  verified: boolean;
  source: string;
}

export interface IstioRelease {
  version: string;
  minor: string;
  /** Supported Kubernetes minors. */
  kubernetes: string[];
  /** Default node image (the newest supported Kubernetes minor podpath has an image for). */
  kindNodeImage: string;
  /** kind release to use with that image. */
  kind: string;
  node: KindNodeImage;
  /** Things the user should know: unverified facts, possibly newer patches. */
  warnings: string[];
}

const SUPPORT_TABLE = 'istio.io supported-releases table (data/compatibility/supportStatus.yml)';
const V032_NOTES = 'kind v0.32.0 release notes, as pinned by several public repositories citing them';
const V027_NOTES = 'kind v0.27.0 release notes, as pinned by several public repositories citing them';

/** kind node images podpath uses, by Kubernetes minor. Newest kind release that published one wins. */
export const NODE_IMAGES: Readonly<Record<string, KindNodeImage>> = {
  '1.36': { kubernetes: '1.36.1', kind: 'v0.32.0', verified: true, source: V032_NOTES,
    image: 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5' },
  '1.35': { kubernetes: '1.35.5', kind: 'v0.32.0', verified: true, source: V032_NOTES,
    image: 'kindest/node:v1.35.5@sha256:ce977ae6d65918d0b58a5f8b5e940429c2ce42fa3a5619ec2bbc60b949c0ac95' },
  '1.34': { kubernetes: '1.34.8', kind: 'v0.32.0', verified: true, source: V032_NOTES,
    image: 'kindest/node:v1.34.8@sha256:02722c2dedddcfc00febf5d27fbeb9b7b2c14294c82109ff4a85d89ac9ba3256' },
  '1.33': { kubernetes: '1.33.12', kind: 'v0.32.0', verified: true, source: V032_NOTES,
    image: 'kindest/node:v1.33.12@sha256:3f5c8443c620245e4d355cfe09e96a91ead32ceaa569d3f1ca9edf0cb2fe2ff4' },
  '1.32': { kubernetes: '1.32.2', kind: 'v0.27.0', verified: true, source: V027_NOTES,
    image: 'kindest/node:v1.32.2@sha256:f226345927d7e348497136874b6d207e0b32cc52154ad8323129352923a3142f' },
  '1.31': { kubernetes: '1.31.6', kind: 'v0.27.0', verified: true, source: V027_NOTES,
    image: 'kindest/node:v1.31.6@sha256:28b7cbb993dfe093c76641a0c95807637213c9109b761f1d422c2400e22b8e87' },
  '1.30': { kubernetes: '1.30.10', kind: 'v0.27.0', verified: true, source: V027_NOTES,
    image: 'kindest/node:v1.30.10@sha256:4de75d0e82481ea846c0ed1de86328d821c1e6a6a91ac37bf804e5313670e507' },
  '1.29': { kubernetes: '1.29.14', kind: 'v0.27.0', verified: true, source: V027_NOTES,
    image: 'kindest/node:v1.29.14@sha256:8703bd94ee24e51b778d5556ae310c6c0fa67d761fae6379c8e0bb480e6fea29' },
};

/** The kind release podpath uses for status/down and when no Istio version is involved. */
export const DEFAULT_KIND_VERSION = 'v0.32.0';
export const KIND_VERSIONS: readonly string[] = ['v0.32.0', 'v0.27.0'];

function patches(minor: string, latest: number): string[] {
  return Array.from({ length: latest + 1 }, (_, i) => `${minor}.${latest - i}`);
}

function k8sRange(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `1.${from + i}`);
}

const EOL_SOURCE = 'endoflife.date/istio (latest patch per minor) and istio.io release announcements';

/** Istio minors podpath supports, newest first. */
export const ISTIO_MINORS: readonly IstioMinor[] = [
  { minor: '1.30', patches: patches('1.30', 5), patchesComplete: false, patchesAsOf: '2026-09', kubernetes: k8sRange(32, 36), verified: true,
    source: `${SUPPORT_TABLE}; istio.io 1.30.x announcements up to 1.30.5` },
  { minor: '1.29', patches: patches('1.29', 9), patchesComplete: true, patchesAsOf: '2026-10', kubernetes: k8sRange(31, 35), verified: true,
    source: `${SUPPORT_TABLE}; istio.io announcing-1.29.9 (final 1.29 release)` },
  { minor: '1.28', patches: patches('1.28', 4), patchesComplete: false, patchesAsOf: '2026-02', kubernetes: k8sRange(30, 34), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.27', patches: patches('1.27', 7), patchesComplete: false, patchesAsOf: '2026-02', kubernetes: k8sRange(29, 33), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.26', patches: patches('1.26', 8), patchesComplete: true, patchesAsOf: '2025-12', kubernetes: k8sRange(29, 33), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.25', patches: patches('1.25', 5), patchesComplete: true, patchesAsOf: '2025-09', kubernetes: k8sRange(29, 32), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.24', patches: patches('1.24', 6), patchesComplete: true, patchesAsOf: '2025-05', kubernetes: k8sRange(28, 31), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.23', patches: patches('1.23', 6), patchesComplete: true, patchesAsOf: '2025-04', kubernetes: k8sRange(27, 30), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.22', patches: patches('1.22', 8), patchesComplete: true, patchesAsOf: '2025-01', kubernetes: k8sRange(27, 30), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.21', patches: patches('1.21', 6), patchesComplete: true, patchesAsOf: '2024-09', kubernetes: k8sRange(26, 29), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
  { minor: '1.20', patches: patches('1.20', 8), patchesComplete: true, patchesAsOf: '2024-07', kubernetes: k8sRange(25, 29), verified: true,
    source: `${SUPPORT_TABLE}; ${EOL_SOURCE}` },
];

export function knownIstioVersions(): string[] {
  return ISTIO_MINORS.map((m) => `${m.minor} (${m.patches[0]}..${m.patches.at(-1)})`);
}

function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** Pick the node image for a release: the requested Kubernetes minor, else the newest one with an image. */
export function pickNodeImage(minor: IstioMinor, k8s?: string): KindNodeImage {
  if (k8s !== undefined) {
    const wanted = minorOf(k8s.replace(/^v/, ''));
    if (!minor.kubernetes.includes(wanted)) {
      throw new UsageError(`Istio ${minor.minor} does not support Kubernetes ${wanted}`, {
        hint: `Istio ${minor.minor} supports Kubernetes ${minor.kubernetes.join(', ')}.`,
      });
    }
    const node = NODE_IMAGES[wanted];
    if (!node) {
      throw new UsageError(`podpath has no kind node image for Kubernetes ${wanted}`, {
        hint: `Known node images: Kubernetes ${Object.keys(NODE_IMAGES).join(', ')}.`,
      });
    }
    return node;
  }
  for (const candidate of [...minor.kubernetes].reverse()) {
    const node = NODE_IMAGES[candidate];
    if (node) return node;
  }
  throw new UsageError(`podpath has no kind node image for any Kubernetes version Istio ${minor.minor} supports`);
}

/**
 * '1.30' → the latest known 1.30 patch; '1.30.2' → that patch if known. Anything else is a
 * UsageError listing what podpath knows, never a guess.
 */
export function resolveIstio(spec: string, options: { k8s?: string } = {}): IstioRelease {
  const cleaned = spec.trim().replace(/^v/, '');
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(cleaned);
  const known = `Known Istio versions: ${knownIstioVersions().join(', ')}.`;
  if (!match) throw new UsageError(`'${spec}' is not an Istio version (expected MAJOR.MINOR or MAJOR.MINOR.PATCH)`, { hint: known });
  const minorName = `${Number(match[1])}.${Number(match[2])}`;
  const minor = ISTIO_MINORS.find((m) => m.minor === minorName);
  if (!minor) throw new UsageError(`podpath does not know Istio ${minorName}`, { hint: known });
  let version = minor.patches[0];
  if (match[3] !== undefined) {
    const exact = `${minorName}.${Number(match[3])}`;
    if (!minor.patches.includes(exact)) {
      throw new UsageError(`podpath does not know Istio ${exact}`, {
        hint: `Known ${minorName} patches: ${minor.patches.join(', ')}.${minor.patchesComplete ? '' : ' Newer patches may exist; podpath only installs versions in its table.'}`,
      });
    }
    version = exact;
  }
  const node = pickNodeImage(minor, options.k8s);
  const warnings: string[] = [];
  if (match[3] === undefined && !minor.patchesComplete) {
    warnings.push(`Istio ${minorName} resolved to ${version}, the latest patch podpath knows (list as of ${minor.patchesAsOf}); a newer patch may exist.`);
  }
  if (!minor.verified) warnings.push(`Istio ${minorName} facts are unverified (${minor.source}).`);
  if (!node.verified) warnings.push(`Node image ${node.image} is unverified (${node.source}).`);
  return { version, minor: minorName, kubernetes: [...minor.kubernetes], kindNodeImage: node.image, kind: node.kind, node, warnings };
}

/** Images `podpath up` preloads into the kind node so pods start without pulling. */
export function preloadImages(version: string): string[] {
  return [AGENT_IMAGE, `docker.io/istio/pilot:${version}`, `docker.io/istio/proxyv2:${version}`];
}
