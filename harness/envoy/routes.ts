/**
 * HTTP routing as Envoy's router does it.
 * Virtual host by Host (:authority), compared case-insensitively and including any port
 * (Istio therefore lists each domain with and without the port):
 *   1. an exact domain;  2. the longest suffix wildcard (`*.foo.com`, `*-bar.foo.com`);
 *   3. the longest prefix wildcard (`foo.*`);  4. the `*` default virtual host.
 *   A wildcard never matches an empty string.
 * Route: the first route of the virtual host, in order, whose match holds (prefix, path,
 * path_separated_prefix, safe_regex as a full match). Header, query-parameter and runtime
 * conditions need a real request: such routes are assumed not to match and the assumption
 * is reported.
 */
import type { Route, RouteConfig, VirtualHost } from './model.ts';
import { re2FullMatch } from './re2.ts';

export interface VirtualHostMatch {
  virtualHost: VirtualHost;
  domain: string;
  kind: 'exact' | 'suffix wildcard' | 'prefix wildcard' | 'default';
}

export function selectVirtualHost(config: RouteConfig, host: string): VirtualHostMatch | null {
  const h = (config.ignorePortInHostMatching ? withoutPort(host) : host).toLowerCase();
  let suffix: VirtualHostMatch | null = null;
  let prefix: VirtualHostMatch | null = null;
  let fallback: VirtualHostMatch | null = null;
  for (const virtualHost of config.virtualHosts) {
    for (const raw of virtualHost.domains) {
      const domain = raw.toLowerCase();
      if (domain === '*') {
        fallback ??= { virtualHost, domain: raw, kind: 'default' };
      } else if (domain.startsWith('*')) {
        const rest = domain.slice(1);
        if (h.length > rest.length && h.endsWith(rest) && (!suffix || rest.length > suffix.domain.length - 1)) {
          suffix = { virtualHost, domain: raw, kind: 'suffix wildcard' };
        }
      } else if (domain.endsWith('*')) {
        const rest = domain.slice(0, -1);
        if (h.length > rest.length && h.startsWith(rest) && (!prefix || rest.length > prefix.domain.length - 1)) {
          prefix = { virtualHost, domain: raw, kind: 'prefix wildcard' };
        }
      } else if (domain === h) {
        return { virtualHost, domain: raw, kind: 'exact' };
      }
    }
  }
  return suffix ?? prefix ?? fallback;
}

/** Host without `:port` (`[v6]:port` keeps its brackets), as Envoy's ignore_port_in_host_matching reads it. */
export function withoutPort(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*):\d+$/.exec(host);
  return m ? m[1] : host;
}

export interface RouteMatch {
  route: Route | null;
  uncertain: string[];
}

function pathMatches(route: Route, path: string, uncertain: string[]): boolean {
  const p = route.caseSensitive ? path : path.toLowerCase();
  const v = route.caseSensitive ? route.path.value : route.path.value.toLowerCase();
  switch (route.path.kind) {
    case 'prefix':
      return p.startsWith(v);
    case 'path':
      return p === v;
    case 'path_separated_prefix':
      return p === v || p.startsWith(`${v}/`);
    case 'regex':
      {
        const matched = re2FullMatch(route.path.value, path, !route.caseSensitive);
        if (typeof matched === 'boolean') return matched;
        uncertain.push(`route ${route.name ?? route.index} regex ${route.path.value} is not valid RE2 (${matched.invalid}; assumed no match)`);
        return false;
      }
    case 'connect':
      return false;
    case 'template':
    case 'unknown':
      uncertain.push(`route ${route.name ?? route.index} uses a path matcher explain cannot evaluate (assumed no match)`);
      return false;
  }
}

export function selectRoute(virtualHost: VirtualHost, requestPath: string): RouteMatch {
  const uncertain: string[] = [];
  const path = requestPath.split('?')[0] || '/';
  for (const route of virtualHost.routes) {
    if (!pathMatches(route, path, uncertain)) continue;
    if (route.extraConditions.length > 0) {
      uncertain.push(`route ${route.name ?? `#${route.index}`} also matches on ${route.extraConditions.join(', ')} (assumed not to match a plain request)`);
      continue;
    }
    return { route, uncertain };
  }
  return { route: null, uncertain };
}

export function describePath(route: Route): string {
  return route.path.kind === 'unknown' ? 'any path' : `${route.path.kind} ${route.path.value}`;
}
