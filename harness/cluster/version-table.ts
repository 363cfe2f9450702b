/**
 * The shape of harness/cluster/versions.json: what podpath knows about Istio releases and kind
 * node images, as data. Pure: parse and check a table, write it back in a diff-friendly form.
 * `npm run refresh-versions` rebuilds the file; versions.ts answers questions from it.
 */
import { EnvironmentError } from '../errors/index.ts';

/** Platform suffixes of istioctl release archives: istioctl-V-SUFFIX.tar.gz (istio/istio release/downloadIstioCtl.sh). */
export const ISTIOCTL_PLATFORMS = ['linux-amd64', 'linux-arm64', 'osx', 'osx-arm64'] as const;
export type IstioctlPlatform = (typeof ISTIOCTL_PLATFORMS)[number];

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

export interface IstioMinorEntry {
  minor: string;
  /** Known patch versions, newest first. */
  patches: string[];
  /** True once the minor reached end of life: no newer patch will come. */
  patchesComplete: boolean;
  /** When the patch list was taken (YYYY-MM). */
  patchesAsOf: string;
  /** Kubernetes minors Istio supports for this release (istio.io supported-releases table). */
  kubernetes: string[];
  verified: boolean;
  source: string;
  /** Published sha256 of the istioctl archive, by patch and platform; only values read from the release. */
  istioctlSha256: Record<string, Partial<Record<IstioctlPlatform, string>>>;
}

export interface VersionTable {
  schemaVersion: 1;
  about: string;
  /** Day the table was last rebuilt or edited (YYYY-MM-DD). */
  updated: string;
  kind: { default: string };
  /** By Kubernetes minor, e.g. '1.36'. */
  nodeImages: Record<string, KindNodeImage>;
  /** Newest minor first. */
  istio: IstioMinorEntry[];
}

export class VersionTableError extends EnvironmentError {}

const MINOR = /^\d+\.\d+$/;
const PATCH = /^\d+\.\d+\.\d+$/;
const KIND_TAG = /^v\d+\.\d+\.\d+$/;
const SHA256 = /^[0-9a-f]{64}$/;
const NODE_IMAGE = /^kindest\/node:v(\d+\.\d+\.\d+)@sha256:[0-9a-f]{64}$/;

type Json = Record<string, unknown>;

function fail(where: string, what: string): never {
  throw new VersionTableError(`the version table is invalid: ${where} ${what}`, {
    hint: 'Restore harness/cluster/versions.json from git, or rebuild it with `npm run refresh-versions`.',
  });
}

function object(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, 'must be an object');
  return value as Json;
}

function string(value: unknown, where: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value === '') fail(where, 'must be a non-empty string');
  if (pattern && !pattern.test(value)) fail(where, `'${value}' does not match ${pattern}`);
  return value;
}

function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') fail(where, 'must be true or false');
  return value;
}

function strings(value: unknown, where: string, pattern: RegExp): string[] {
  if (!Array.isArray(value) || value.length === 0) fail(where, 'must be a non-empty list');
  return value.map((v, i) => string(v, `${where}[${i}]`, pattern));
}

function byVersionDesc(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Sorts version strings newest first ('1.30.10' after '1.30.9' is wrong; numeric, not text). */
export function sortVersionsDesc(versions: Iterable<string>): string[] {
  return [...versions].sort(byVersionDesc);
}

function nodeImage(value: unknown, minor: string): KindNodeImage {
  const where = `nodeImages["${minor}"]`;
  const o = object(value, where);
  const kubernetes = string(o.kubernetes, `${where}.kubernetes`, PATCH);
  const image = string(o.image, `${where}.image`, NODE_IMAGE);
  if (NODE_IMAGE.exec(image)?.[1] !== kubernetes) fail(`${where}.image`, `is tagged for another Kubernetes version than ${kubernetes}`);
  if (!kubernetes.startsWith(`${minor}.`)) fail(`${where}.kubernetes`, `is not a ${minor} version`);
  return { kubernetes, image, kind: string(o.kind, `${where}.kind`, KIND_TAG), verified: boolean(o.verified, `${where}.verified`), source: string(o.source, `${where}.source`) };
}

function istioMinor(value: unknown, index: number): IstioMinorEntry {
  const o = object(value, `istio[${index}]`);
  const minor = string(o.minor, `istio[${index}].minor`, MINOR);
  const where = `istio "${minor}"`;
  const patches = strings(o.patches, `${where}.patches`, PATCH);
  for (const p of patches) if (!p.startsWith(`${minor}.`)) fail(`${where}.patches`, `lists ${p}, not a ${minor} patch`);
  if (new Set(patches).size !== patches.length) fail(`${where}.patches`, 'lists a patch twice');
  if (sortVersionsDesc(patches).join() !== patches.join()) fail(`${where}.patches`, 'must be newest first');
  const sums = object(o.istioctlSha256 ?? {}, `${where}.istioctlSha256`);
  const istioctlSha256: IstioMinorEntry['istioctlSha256'] = {};
  for (const [patch, perPlatform] of Object.entries(sums)) {
    if (!patches.includes(patch)) fail(`${where}.istioctlSha256`, `has sums for ${patch}, which is not a known patch`);
    const platforms = object(perPlatform, `${where}.istioctlSha256["${patch}"]`);
    const checked: Partial<Record<IstioctlPlatform, string>> = {};
    for (const [platform, sum] of Object.entries(platforms)) {
      if (!(ISTIOCTL_PLATFORMS as readonly string[]).includes(platform)) fail(`${where}.istioctlSha256["${patch}"]`, `names an unknown platform '${platform}'`);
      checked[platform as IstioctlPlatform] = string(sum, `${where}.istioctlSha256["${patch}"].${platform}`, SHA256);
    }
    istioctlSha256[patch] = checked;
  }
  return {
    minor,
    patches,
    patchesComplete: boolean(o.patchesComplete, `${where}.patchesComplete`),
    patchesAsOf: string(o.patchesAsOf, `${where}.patchesAsOf`, /^\d{4}-\d{2}$/),
    kubernetes: strings(o.kubernetes, `${where}.kubernetes`, MINOR),
    verified: boolean(o.verified, `${where}.verified`),
    source: string(o.source, `${where}.source`),
    istioctlSha256,
  };
}

/** Checks every field; a table that reads wrong is an error that names the field, never a guess. */
export function parseVersionTable(value: unknown): VersionTable {
  const o = object(value, 'the top level');
  if (o.schemaVersion !== 1) fail('schemaVersion', `is ${JSON.stringify(o.schemaVersion)}; this podpath reads 1`);
  const kind = object(o.kind, 'kind');
  const images = object(o.nodeImages, 'nodeImages');
  const nodeImages: Record<string, KindNodeImage> = {};
  for (const [minor, entry] of Object.entries(images)) nodeImages[string(minor, 'nodeImages key', MINOR)] = nodeImage(entry, minor);
  if (!Array.isArray(o.istio) || o.istio.length === 0) fail('istio', 'must be a non-empty list');
  const istio = o.istio.map(istioMinor);
  const minors = istio.map((m) => m.minor);
  if (new Set(minors).size !== minors.length) fail('istio', 'lists a minor twice');
  if (sortVersionsDesc(minors).join() !== minors.join()) fail('istio', 'must list the newest minor first');
  return {
    schemaVersion: 1,
    about: typeof o.about === 'string' ? o.about : '',
    updated: string(o.updated, 'updated', /^\d{4}-\d{2}-\d{2}$/),
    kind: { default: string(kind.default, 'kind.default', KIND_TAG) },
    nodeImages,
    istio,
  };
}

/** JSON with two-space indent, short lists of strings kept on one line so a new patch is a one-line diff. */
export function serializeVersionTable(table: VersionTable): string {
  const text = JSON.stringify(table, null, 2);
  return `${text.replace(/\[\n\s+("[^"\n]*"(?:,\n\s+"[^"\n]*")*)\n\s+\]/g, (_, items: string) => `[${items.split(/,\n\s+/).join(', ')}]`)}\n`;
}

/** The sha256 the table pins for an istioctl archive, if the table has one. */
export function pinnedIstioctlSha256(table: VersionTable, version: string, platform: IstioctlPlatform): string | undefined {
  const minor = version.split('.').slice(0, 2).join('.');
  return table.istio.find((m) => m.minor === minor)?.istioctlSha256[version]?.[platform];
}

/** The default node image for a minor: the newest supported Kubernetes minor the table has an image for. */
export function defaultNodeImage(table: VersionTable, minor: IstioMinorEntry): KindNodeImage | undefined {
  return [...minor.kubernetes].reverse().map((k) => table.nodeImages[k]).find(Boolean);
}

export const DOCS_TABLE_START = '<!-- versions-table: generated from harness/cluster/versions.json by npm run refresh-versions -->';
export const DOCS_TABLE_END = '<!-- /versions-table -->';

/** The Markdown table docs/cluster.md shows, one row per minor; (*) marks lists that may be behind. */
export function renderVersionsMarkdown(table: VersionTable): string {
  const rows = table.istio.map((m) => {
    const node = defaultNodeImage(table, m);
    return `| ${m.minor} | ${m.patches.at(-1)} – ${m.patches[0]}${m.patchesComplete ? '' : ' (*)'} | ${m.kubernetes[0]} – ${m.kubernetes.at(-1)} | ${node ? `v${node.kubernetes}` : 'none'} | ${node?.kind ?? '-'} |`;
  });
  return ['| Istio | known patches | supported Kubernetes | node image (default) | kind |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** Replaces the generated table between the markers; null when the document has no markers. */
export function replaceDocsTable(doc: string, table: VersionTable): string | null {
  const start = doc.indexOf(DOCS_TABLE_START);
  const end = doc.indexOf(DOCS_TABLE_END);
  if (start < 0 || end < start) return null;
  return `${doc.slice(0, start + DOCS_TABLE_START.length)}\n${renderVersionsMarkdown(table)}\n${doc.slice(end)}`;
}
