/**
 * What podpath knows about Istio releases, the Kubernetes versions each supports, and the kind
 * node image to run them on. The facts live in versions.json (rebuilt by `npm run
 * refresh-versions`); every entry names where it came from, and entries marked `verified: false`
 * surface as warnings when used.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors/index.ts';
import { parseVersionTable, pinnedIstioctlSha256, type IstioctlPlatform, type IstioMinorEntry, type KindNodeImage, type VersionTable } from './version-table.ts';
import { AGENT_IMAGE } from '../../manifests/topology.ts';

export type { KindNodeImage } from './version-table.ts';

export type IstioMinor = Omit<IstioMinorEntry, 'istioctlSha256'>;

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

/** The table shipped with podpath, read once; a broken file fails the first import, loudly. */
export const VERSION_TABLE: VersionTable = parseVersionTable(JSON.parse(readFileSync(new URL('./versions.json', import.meta.url), 'utf8')));

/** kind node images podpath uses, by Kubernetes minor. Newest kind release that published one wins. */
export const NODE_IMAGES: Readonly<Record<string, KindNodeImage>> = VERSION_TABLE.nodeImages;

/** The kind release podpath uses for status/down and when no Istio version is involved. */
export const DEFAULT_KIND_VERSION: string = VERSION_TABLE.kind.default;
export const KIND_VERSIONS: readonly string[] = [...new Set([DEFAULT_KIND_VERSION, ...Object.values(NODE_IMAGES).map((n) => n.kind)])];

/** Istio minors podpath supports, newest first. */
export const ISTIO_MINORS: readonly IstioMinor[] = VERSION_TABLE.istio.map(({ istioctlSha256: _sums, ...minor }) => minor);

/** The newest Istio release podpath knows. */
export function newestIstio(): string {
  return ISTIO_MINORS[0].patches[0];
}

/** The sha256 versions.json pins for an istioctl archive, when it has one (checked beside the published file). */
export function pinnedIstioctl(version: string, platform: IstioctlPlatform): string | undefined {
  return pinnedIstioctlSha256(VERSION_TABLE, version, platform);
}

const REFRESH_HINT = 'To learn newer releases, run `npm run refresh-versions` (needs network to GitHub) and commit harness/cluster/versions.json.';

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
  const known = `Known Istio versions: ${knownIstioVersions().join(', ')}. The newest is ${newestIstio()} (table of ${VERSION_TABLE.updated}).`;
  if (!match) throw new UsageError(`'${spec}' is not an Istio version (expected MAJOR.MINOR or MAJOR.MINOR.PATCH)`, { hint: known });
  const minorName = `${Number(match[1])}.${Number(match[2])}`;
  const minor = ISTIO_MINORS.find((m) => m.minor === minorName);
  if (!minor) {
    const [newestMajor, newestMinor] = ISTIO_MINORS[0].minor.split('.').map(Number);
    const newer = Number(match[1]) > newestMajor || (Number(match[1]) === newestMajor && Number(match[2]) > newestMinor);
    throw new UsageError(`podpath does not know Istio ${minorName}`, { hint: newer ? `${known}\n${REFRESH_HINT}` : `${known} Older minors are out of Istio's support and not in podpath's table.` });
  }
  let version = minor.patches[0];
  if (match[3] !== undefined) {
    const exact = `${minorName}.${Number(match[3])}`;
    if (!minor.patches.includes(exact)) {
      throw new UsageError(`podpath does not know Istio ${exact}`, {
        hint: `Known ${minorName} patches: ${minor.patches.join(', ')}; the newest is ${minor.patches[0]}.${minor.patchesComplete ? '' : ` Newer patches may exist; podpath only installs versions in its table. ${REFRESH_HINT}`}`,
      });
    }
    version = exact;
  }
  const node = pickNodeImage(minor, options.k8s);
  const warnings: string[] = [];
  if (match[3] === undefined && !minor.patchesComplete) {
    warnings.push(`Istio ${minorName} resolved to ${version}, the latest patch podpath knows (list as of ${minor.patchesAsOf}); a newer patch may exist (npm run refresh-versions).`);
  }
  if (!minor.verified) warnings.push(`Istio ${minorName} facts are unverified (${minor.source}).`);
  if (!node.verified) warnings.push(`Node image ${node.image} is unverified (${node.source}).`);
  return { version, minor: minorName, kubernetes: [...minor.kubernetes], kindNodeImage: node.image, kind: node.kind, node, warnings };
}

/** Images `podpath up` preloads into the kind node so pods start without pulling. */
export function preloadImages(version: string): string[] {
  return [AGENT_IMAGE, `docker.io/istio/pilot:${version}`, `docker.io/istio/proxyv2:${version}`];
}
