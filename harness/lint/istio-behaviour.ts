/**
 * Istio version behaviour shared by lint and scenarios. Sources checked (search tool):
 * - istio/istio releasenotes/notes/external-name.yaml and the 1.20 / 1.21 upgrade notes:
 *   1.20 added ExternalName-as-alias behind ENABLE_EXTERNAL_NAME_ALIAS (off by default, opt in
 *   with =true); 1.21 turned it on by default (opt out with =false); the 1.21.1 notes fix
 *   "VirtualServices routing to ExternalName ... when ENABLE_EXTERNAL_NAME_ALIAS=false".
 * - Istio 1.24.0 change notes: support for compatibilityVersion 1.20 was removed, and with it
 *   ENABLE_EXTERNAL_NAME_ALIAS ("removed from Istio entirely"). istio/istio at tag 1.24.0:
 *   pilot/pkg/serviceregistry/kube/conversion.go sets `resolution = model.Alias` for every
 *   ExternalName with no flag check (1.23.0 still branched on features.EnableExternalNameAlias),
 *   and pilot/pkg/features no longer registers the env: setting it changes nothing.
 * - Istio 1.25.0 change notes: PILOT_ENABLE_IP_AUTOALLOCATE is true by default (ServiceEntries
 *   without addresses get status.addresses), "not used unless the proxy is configured to do DNS
 *   proxying (which remains off by default)"; ISTIO_META_DNS_AUTO_ALLOCATE is deprecated.
 * - DNS proxying docs (sidecar mode): ISTIO_META_DNS_CAPTURE is "not currently enabled by default".
 */

import { ISTIO_MINORS } from '../cluster/versions.ts';

/**
 * The versions whose behaviour the rules know: 1.0 (the first release with sidecar listeners
 * per port) to the newest minor podpath installs. Outside it a severity would be a guess.
 */
export const KNOWN_ISTIO = { oldest: { major: 1, minor: 0 }, newest: parseMinor(ISTIO_MINORS[0].minor) } as const;

function parseMinor(text: string): IstioVersion {
  const [major, minor] = text.split('.').map(Number);
  return { major, minor };
}

/** Whether the rules know this version's behaviour (see KNOWN_ISTIO). */
export function isKnownIstio(v: IstioVersion): boolean {
  const { oldest, newest } = KNOWN_ISTIO;
  const rank = (x: IstioVersion): number => x.major * 1000 + x.minor;
  return rank(v) >= rank(oldest) && rank(v) <= rank(newest);
}

export interface IstioVersion {
  major: number;
  minor: number;
}

/** `1.22`, `1.22.3`, `v1.24.0-beta.1` → {1, 22}; null when it is not a version. */
export function parseIstioVersion(text: string): IstioVersion | null {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+][0-9A-Za-z.-]+)?$/.exec(text.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

function atLeast(v: IstioVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Go's strconv.ParseBool, which istiod's env.Register uses; anything else leaves the default. */
export function envBool(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/**
 * Whether an ExternalName Service's (non-HTTP) ports become their own outbound listeners
 * (the seed incident's `0.0.0.0_PORT` catch-all) on this Istio version with this istiod env.
 * 'unknown': not a version. On >= 1.24 never, whatever the env (istiod no longer reads the flag).
 */
export function externalNameCreatesListener(istioVersion: string, pilotEnv: Record<string, string> = {}): boolean | 'unknown' {
  const v = parseIstioVersion(istioVersion);
  if (v === null) return 'unknown';
  const alias = envBool(pilotEnv.ENABLE_EXTERNAL_NAME_ALIAS);
  if (!atLeast(v, 1, 20)) return true;
  if (!atLeast(v, 1, 21)) return alias !== true;
  if (!atLeast(v, 1, 24)) return alias === false;
  // 1.24.0 pilot/pkg/serviceregistry/kube/conversion.go sets Alias for every ExternalName and no
  // longer registers the flag: whatever the env, no listener (the oracle's 1.24+ goldens agree).
  return false;
}

/** Whether istiod on this version reads ENABLE_EXTERNAL_NAME_ALIAS at all (1.20–1.23); null when it is not a version. */
export function externalNameAliasFlagRead(istioVersion: string): boolean | null {
  const v = parseIstioVersion(istioVersion);
  if (v === null) return null;
  return atLeast(v, 1, 20) && !atLeast(v, 1, 24);
}

/** Whether istiod auto-allocates addresses to ServiceEntries without `addresses` by default. */
export function dnsAutoAllocateDefault(istioVersion: string): boolean | 'unknown' {
  const v = parseIstioVersion(istioVersion);
  if (v === null) return 'unknown';
  return atLeast(v, 1, 25);
}

/** Whether sidecars capture DNS by default (sidecar mode: never, as of every release checked). */
export function dnsCaptureDefault(istioVersion: string): boolean | 'unknown' {
  return parseIstioVersion(istioVersion) === null ? 'unknown' : false;
}
