/**
 * A second witness for istioctl downloads: when versions.json pins the archive's sha256 (read
 * from the release when the table was refreshed), the checksum file fetched now must agree.
 * A release whose published sum changed after podpath recorded it is refused, not trusted.
 */
import { EnvironmentError } from '../errors/index.ts';
import { parseChecksumFile, type Asset, type Target } from './assets.ts';
import type { FetchLike } from './download.ts';
import type { IstioctlPlatform } from './version-table.ts';

/** The platform suffix of istioctl archives, as istioctlAsset names them. */
export function istioctlPlatform(target: Target): IstioctlPlatform {
  return target.os === 'darwin' ? (target.arch === 'arm64' ? 'osx-arm64' : 'osx') : `linux-${target.arch}`;
}

/** Wraps fetch so the answer for the asset's checksum file is checked against the pinned sum. */
export function withPinnedChecksum(fetchFn: FetchLike, asset: Asset, pinned: string | undefined): FetchLike {
  if (!pinned) return fetchFn;
  return async (url, init) => {
    const response = await fetchFn(url, init);
    if (url !== asset.checksumUrl || !response.ok) return response;
    const text = await response.text();
    const published = parseChecksumFile(text, asset.fileName);
    if (published !== pinned) {
      throw new EnvironmentError(`the published sha256 of ${asset.fileName} (${published}) differs from the one podpath recorded (${pinned})`, {
        hint: 'The release was changed after podpath recorded it. Do not use it until the Istio project explains why; harness/cluster/versions.json keeps the recorded sum.',
      });
    }
    return new Response(text, { status: response.status, headers: response.headers });
  };
}
