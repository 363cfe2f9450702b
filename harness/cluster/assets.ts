/**
 * Pure helpers for the tool downloads: which OS/arch podpath runs on, where each release asset
 * lives, how the published checksum files read, and where the cache is.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError, UsageError } from '../errors/index.ts';

export interface Target {
  os: 'linux' | 'darwin';
  arch: 'amd64' | 'arm64';
}

export function platformTarget(platform: string, arch: string): Target {
  const os = platform === 'linux' ? 'linux' : platform === 'darwin' ? 'darwin' : null;
  const cpu = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : null;
  if (os === null || cpu === null) {
    throw new EnvironmentError(`podpath up does not support ${platform}/${arch}`, {
      hint: 'kind and istioctl are fetched for linux or macOS on amd64/arm64. On Windows, run podpath inside WSL2 with Docker.',
    });
  }
  return { os, arch: cpu };
}

export interface Asset {
  tool: 'kind' | 'istioctl';
  version: string;
  url: string;
  checksumUrl: string;
  /** File name the checksum file refers to. */
  fileName: string;
  archive: boolean;
}

export interface ReleaseSources {
  kind: string;
  istio: string;
}

export const GITHUB_SOURCES: ReleaseSources = {
  kind: 'https://github.com/kubernetes-sigs/kind/releases/download',
  istio: 'https://github.com/istio/istio/releases/download',
};

export function kindAsset(version: string, target: Target, sources: ReleaseSources = GITHUB_SOURCES): Asset {
  const tag = version.startsWith('v') ? version : `v${version}`;
  const fileName = `kind-${target.os}-${target.arch}`;
  const url = `${sources.kind}/${tag}/${fileName}`;
  return { tool: 'kind', version: tag, url, checksumUrl: `${url}.sha256sum`, fileName, archive: false };
}

/** Istio names macOS archives `osx` (amd64) and `osx-arm64`; Linux ones `linux-ARCH`. */
export function istioctlAsset(version: string, target: Target, sources: ReleaseSources = GITHUB_SOURCES): Asset {
  const suffix = target.os === 'darwin' ? (target.arch === 'arm64' ? 'osx-arm64' : 'osx') : `linux-${target.arch}`;
  const fileName = `istioctl-${version}-${suffix}.tar.gz`;
  const url = `${sources.istio}/${version}/${fileName}`;
  return { tool: 'istioctl', version, url, checksumUrl: `${url}.sha256`, fileName, archive: true };
}

/**
 * Reads `HEX  NAME`, `HEX *NAME` (binary mode) or a bare `HEX`, as sha256sum writes them. When
 * names are present the one for `fileName` must be there: a checksum for another file is no check.
 */
export function parseChecksumFile(text: string, fileName: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (const line of lines) {
    const match = /^([0-9a-fA-F]{64})(?:\s+\*?(.+))?$/.exec(line);
    if (!match) continue;
    const name = match[2]?.trim();
    if (name === undefined || name === fileName || name.endsWith(`/${fileName}`)) return match[1].toLowerCase();
  }
  throw new EnvironmentError(`the published checksum file has no sha256 for ${fileName}`, {
    hint: 'The release may be incomplete or the download was altered; podpath will not use an unchecked binary.',
  });
}

export function cacheRoot(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && xdg.startsWith('/')) return join(xdg, 'podpath');
  return join(env.HOME || homedir(), '.cache', 'podpath');
}

/** Where podpath keeps one cluster's generated files, including its own kubeconfig. */
export function clusterDir(root: string, name: string): string {
  return join(root, 'clusters', name);
}

/**
 * The cluster's private kubeconfig: kind create/delete/export get `--kubeconfig` with this path,
 * so the user's $KUBECONFIG (or ~/.kube/config) is never merged into or has its current-context
 * changed (kubernetes-sigs/kind pkg/cluster/internal/kubeconfig: an explicit path is the only file used).
 */
export function clusterKubeconfig(root: string, name: string): string {
  return join(clusterDir(root, name), 'kubeconfig');
}

export function toolDir(root: string, asset: Asset, target: Target): string {
  return join(root, 'tools', asset.tool, asset.version, `${target.os}-${target.arch}`);
}

/** First version-looking token: 'kind v0.32.0 go1.26.3 linux/amd64' → 'v0.32.0'; '1.22.8' → '1.22.8'. */
export function parseToolVersion(output: string): string | null {
  const match = /\bv?(\d+\.\d+\.\d+(?:-[\w.]+)?)\b/.exec(output);
  return match ? match[0] : null;
}

export function sameVersion(a: string, b: string): boolean {
  return a.replace(/^v/, '') === b.replace(/^v/, '');
}

export function assertSafeClusterName(name: string): string {
  // kind names become Docker container names and kube context names; keep them boring.
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name)) {
    throw new UsageError(`'${name}' is not a valid cluster name`, { hint: 'Use lower-case letters, digits and dashes (at most 32 characters).' });
  }
  return name;
}
