/**
 * Rebuilding the version table from what upstream publishes: the GitHub releases of istio/istio
 * (patch tags, istioctl checksum assets) and kubernetes-sigs/kind (node image digests in the
 * release notes), and istio.io's supported-releases table (Kubernetes ranges, end of life).
 * Pure: the fetching lives in scripts/lib/refresh-versions.ts. Facts only ever get added or
 * confirmed; nothing already in the table is dropped, and a recorded checksum is never replaced.
 */
import { ISTIOCTL_PLATFORMS, sortVersionsDesc, type IstioctlPlatform, type IstioMinorEntry, type KindNodeImage, type VersionTable } from './version-table.ts';

/** The fields podpath reads from a GitHub release (REST API, GET /repos/OWNER/REPO/releases). */
export interface GitHubRelease {
  tag_name: string;
  draft: boolean;
  prerelease: boolean;
  published_at?: string | null;
  body?: string | null;
  assets: { name: string; browser_download_url: string }[];
}

/** One entry of istio/istio.io data/compatibility/supportStatus.yml. */
export interface SupportStatusEntry {
  version: string;
  supported: string;
  k8sVersions: string[];
}

export interface ChecksumRequest {
  version: string;
  platform: IstioctlPlatform;
  url: string;
  fileName: string;
}

const STABLE = /^\d+\.\d+\.\d+$/;
const KIND_STABLE = /^v\d+\.\d+\.\d+$/;
// kind's release notes list each image as `kindest/node:vX.Y.Z@sha256:HEX` (kubernetes-sigs/kind RELEASE.md).
const NODE_IMAGE_IN_NOTES = /kindest\/node:v(\d+)\.(\d+)\.(\d+)@sha256:([0-9a-f]{64})/g;

function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

function compareMinor(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** Stable istio/istio releases (no drafts, prereleases, alpha/beta/rc tags), grouped by minor. */
export function stableIstioPatches(releases: readonly GitHubRelease[]): Map<string, string[]> {
  const byMinor = new Map<string, string[]>();
  for (const release of releases) {
    if (release.draft || release.prerelease || !STABLE.test(release.tag_name)) continue;
    const minor = minorOf(release.tag_name);
    byMinor.set(minor, [...(byMinor.get(minor) ?? []), release.tag_name]);
  }
  return byMinor;
}

/** The newest kind release that lists an image wins each Kubernetes minor. */
export function nodeImagesFromKindReleases(releases: readonly GitHubRelease[]): { kind: string | null; images: Map<string, KindNodeImage> } {
  const stable = releases.filter((r) => !r.draft && !r.prerelease && KIND_STABLE.test(r.tag_name));
  const ordered = sortVersionsDesc(stable.map((r) => r.tag_name.slice(1))).map((v) => stable.find((r) => r.tag_name === `v${v}`)!);
  const images = new Map<string, KindNodeImage>();
  for (const release of ordered) {
    for (const match of (release.body ?? '').matchAll(NODE_IMAGE_IN_NOTES)) {
      const minor = `${match[1]}.${match[2]}`;
      if (images.has(minor)) continue;
      const kubernetes = `${match[1]}.${match[2]}.${match[3]}`;
      images.set(minor, {
        kubernetes,
        image: `kindest/node:v${kubernetes}@sha256:${match[4]}`,
        kind: release.tag_name,
        verified: true,
        source: `kind ${release.tag_name} release notes (GitHub release of kubernetes-sigs/kind)`,
      });
    }
  }
  return { kind: ordered[0]?.tag_name ?? null, images };
}

/** The checksum files to fetch: patches in `table` (the merged one) with no recorded sum for a platform. */
export function checksumRequests(table: VersionTable, releases: readonly GitHubRelease[]): ChecksumRequest[] {
  const known = new Set(table.istio.flatMap((m) => m.patches));
  const requests: ChecksumRequest[] = [];
  for (const release of releases) {
    const version = release.tag_name;
    if (release.draft || release.prerelease || !STABLE.test(version)) continue;
    const minor = table.istio.find((m) => m.minor === minorOf(version));
    if (!minor || !known.has(version)) continue;
    for (const platform of ISTIOCTL_PLATFORMS) {
      if (minor.istioctlSha256[version]?.[platform]) continue;
      const fileName = `istioctl-${version}-${platform}.tar.gz`;
      const asset = release.assets.find((a) => a.name === `${fileName}.sha256`);
      if (asset) requests.push({ version, platform, url: asset.browser_download_url, fileName });
    }
  }
  return requests;
}

export interface RefreshInputs {
  istioReleases: readonly GitHubRelease[];
  kindReleases: readonly GitHubRelease[];
  supportStatus: readonly SupportStatusEntry[];
  /** Published sums, keyed `VERSION PLATFORM`, for the requests checksumRequests() named. */
  sums: ReadonlyMap<string, string>;
  today: Date;
}

export interface RefreshResult {
  table: VersionTable;
  /** One line per fact added or changed, for the user and the commit message. */
  changes: string[];
  /** Things the refresh could not do (e.g. a new minor without a Kubernetes range yet). */
  warnings: string[];
}

const REFRESHED = /; GitHub releases of istio\/istio, refreshed \d{4}-\d{2}-\d{2}$/;

/** Merges upstream facts into the table: adds patches, minors, sums and newer node images; drops nothing. */
export function refreshTable(current: VersionTable, inputs: RefreshInputs): RefreshResult {
  const day = inputs.today.toISOString().slice(0, 10);
  const month = day.slice(0, 7);
  const changes: string[] = [];
  const warnings: string[] = [];
  const patches = stableIstioPatches(inputs.istioReleases);
  const support = new Map(inputs.supportStatus.filter((s) => /^\d+\.\d+$/.test(s.version)).map((s) => [s.version, s]));
  const oldest = current.istio.at(-1)!.minor;

  const minors = new Set(current.istio.map((m) => m.minor));
  for (const minor of patches.keys()) {
    if (minors.has(minor) || compareMinor(minor, oldest) < 0) continue;
    if (!support.get(minor)?.k8sVersions.length) {
      warnings.push(`Istio ${minor} has releases (${sortVersionsDesc(patches.get(minor)!).join(', ')}) but istio.io's supported-releases table gives no Kubernetes range for it yet: not added`);
      continue;
    }
    minors.add(minor);
  }

  const istio: IstioMinorEntry[] = [];
  for (const minor of [...minors].sort((a, b) => compareMinor(b, a))) {
    const before = current.istio.find((m) => m.minor === minor);
    const status = support.get(minor);
    const released = patches.get(minor) ?? [];
    const merged = sortVersionsDesc(new Set([...(before?.patches ?? []), ...released]));
    const added = merged.filter((p) => !before?.patches.includes(p));
    const kubernetes = status?.k8sVersions.length ? [...status.k8sVersions] : before!.kubernetes;
    const endOfLife = status !== undefined && /^no\b/i.test(status.supported) && !/development/i.test(status.supported);
    const patchesComplete = (before?.patchesComplete ?? false) || endOfLife;
    const sums: IstioMinorEntry['istioctlSha256'] = structuredClone(before?.istioctlSha256 ?? {});
    for (const patch of merged) {
      for (const platform of ISTIOCTL_PLATFORMS) {
        const sum = inputs.sums.get(`${patch} ${platform}`);
        if (sum === undefined || sums[patch]?.[platform]) continue;
        sums[patch] = { ...sums[patch], [platform]: sum };
        changes.push(`istioctl ${patch} ${platform}: sha256 ${sum}`);
      }
    }
    const sourceBase = before?.source.replace(REFRESHED, '') ?? "istio.io supported-releases table (data/compatibility/supportStatus.yml)";
    const source = added.length || !before ? `${sourceBase}; GitHub releases of istio/istio, refreshed ${day}` : before.source;
    if (!before) changes.push(`Istio ${minor}: new minor, patches ${merged.join(', ')}, Kubernetes ${kubernetes.join(', ')}`);
    else if (added.length) changes.push(`Istio ${minor}: new patches ${added.join(', ')}`);
    if (before && before.kubernetes.join() !== kubernetes.join()) changes.push(`Istio ${minor}: supported Kubernetes ${before.kubernetes.join(', ')} → ${kubernetes.join(', ')}`);
    if (before && !before.patchesComplete && patchesComplete) changes.push(`Istio ${minor}: end of life, patch list complete`);
    istio.push({
      minor,
      patches: merged,
      patchesComplete,
      // The list is as fresh as today unless the minor was already finished before.
      patchesAsOf: before?.patchesComplete ? before.patchesAsOf : month,
      kubernetes,
      verified: before?.verified ?? true,
      source,
      istioctlSha256: Object.fromEntries(sortVersionsDesc(Object.keys(sums)).map((p) => [p, sums[p]])),
    });
  }

  const fromKind = nodeImagesFromKindReleases(inputs.kindReleases);
  const nodeImages: Record<string, KindNodeImage> = { ...current.nodeImages };
  for (const [minor, image] of fromKind.images) {
    const before = nodeImages[minor];
    if (before?.image === image.image) continue;
    nodeImages[minor] = image;
    changes.push(`node image for Kubernetes ${minor}: ${before ? `${before.image} (kind ${before.kind}) → ` : ''}${image.image} (kind ${image.kind})`);
  }
  const orderedImages = Object.fromEntries(Object.keys(nodeImages).sort((a, b) => compareMinor(b, a)).map((k) => [k, nodeImages[k]]));
  const kindDefault = fromKind.kind ?? current.kind.default;
  if (kindDefault !== current.kind.default) changes.push(`default kind release: ${current.kind.default} → ${kindDefault}`);
  for (const m of istio) {
    if (!m.kubernetes.some((k) => orderedImages[k])) warnings.push(`Istio ${m.minor}: no kind node image for any supported Kubernetes minor (${m.kubernetes.join(', ')})`);
  }

  return {
    table: { ...current, updated: day, kind: { default: kindDefault }, nodeImages: orderedImages, istio },
    changes,
    warnings,
  };
}
