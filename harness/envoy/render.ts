/** Human output for an Explanation: the steps, then what the verdict means and what to do. */
import type { Explanation } from './explain.ts';

export interface Advice {
  meaning: string;
  fixes: string[];
}

function fqdnOf(clusterName: string): string {
  // outbound|5701||app-ext.app.svc.cluster.local → app-ext.app.svc.cluster.local
  const parts = clusterName.split('|');
  return parts.length === 4 ? parts[3] : clusterName;
}

function portOf(dst: string): string {
  return dst.slice(dst.lastIndexOf(':') + 1);
}

function ipOf(dst: string): string {
  return dst.slice(0, dst.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
}

/** What the verdict means for this connection, and the fixes worth trying. */
export function advise(e: Explanation): Advice {
  const port = portOf(e.dst);
  const ip = ipOf(e.dst);
  const cluster = e.cluster?.name ?? '?';
  switch (e.verdict) {
    case 'captured': {
      const wildcard = e.listener !== null && /^(0\.0\.0\.0|\[::\]|::)_\d+$/.test(e.listener);
      if (wildcard && e.route === null) {
        const service = fqdnOf(cluster);
        return {
          meaning: [
            `${e.listener} is a catch-all for TCP port ${port}: its chain sends every destination the mesh does not know on that port to ${cluster} (${e.cluster?.type ?? '?'} ${e.cluster?.endpoints.join(', ') || 'no endpoints'}), which does not include ${ip}.`,
            `This is the seed incident: a Service or ServiceEntry elsewhere in the mesh (${service}) declares TCP port ${port} without an address of its own — an ExternalName Service on Istio ≤ 1.20 (1.21–1.23 with ENABLE_EXTERNAL_NAME_ALIAS=false), or a ServiceEntry with resolution DNS and no addresses on any version.`,
            `Before that listener existed, ${e.dst} went to PassthroughCluster. The client sidecar accepts the connection at once and closes it when the upstream fails: expect "0 UF,URX" and ${cluster} in its access log.`,
          ].join('\n'),
          fixes: [
            `Drop port ${port} from ${service} (an ExternalName does not need TCP ports to resolve).`,
            `Replace the ExternalName Service with a VirtualService that routes to the target host.`,
            `Annotate ${service} with networking.istio.io/exportTo: "." so other namespaces do not get its listener.`,
            'Add a Sidecar in the client namespace whose egress hosts leave that service out.',
            `Give different TCP services different port numbers, or use TLS with SNI so Envoy can route port ${port} by name.`,
          ],
        };
      }
      return {
        meaning: `${e.dst} is routed to ${cluster}, whose endpoints (${e.cluster?.endpoints.join(', ') || 'none'}) do not include ${ip}: something other than the pod you dialled will answer, if anything does.`,
        fixes: [
          e.route
            ? `HTTP is routed by Host, not by the dialled IP: the Host selected virtual host "${e.route.virtualHost}" (route config "${e.route.config}"). Send the Host of the service you mean, or the pod IP itself as Host.`
            : `Find the Service that owns ${cluster} and restrict its visibility (exportTo, Sidecar egress) or its ports.`,
          'Call the service by name instead of a pod IP, or use a headless Service for pod-to-pod traffic.',
        ],
      };
    }
    case 'passthrough':
      if (e.direction === 'outbound' && e.endpointOf && e.endpointOf.length > 0) {
        return {
          meaning: `${ip} is a pod of the mesh (an endpoint of ${e.endpointOf.slice(0, 3).join(', ')}), but no listener of this sidecar routes its IP on port ${port}: the connection goes as dialled (${cluster}), in plaintext, without Istio mTLS or service policy. A server sidecar under STRICT mTLS rejects it (NR filter_chain_not_found).`,
          fixes: [
            `Call it by its service name, or declare port ${port} on a Service (a headless Service for per-pod traffic) so the sidecar routes the pod IP with mTLS.`,
          ],
        };
      }
      return e.direction === 'outbound'
        ? {
            meaning: `The mesh does not know ${e.dst}: the sidecar forwards it as dialled (${cluster}), in plaintext, without Istio mTLS or service policy. A server sidecar under STRICT mTLS rejects it (NR filter_chain_not_found).`,
            fixes: ['For mTLS on pod-to-pod traffic, put the pods behind a headless Service (per-pod hostnames and a port-level fallback).'],
          }
        : { meaning: `The server sidecar accepts ${e.dst} on its passthrough chain and hands it to the app without a service cluster.`, fixes: [] };
    case 'service':
      if (e.proxy === 'gateway') {
        return {
          meaning: `The gateway accepts ${e.dst} on ${e.listener ?? 'its listener'}${e.route ? `, matches virtual host "${e.route.virtualHost}" (route config "${e.route.config}")` : ''} and sends the request to ${cluster} (${e.cluster?.endpoints.join(', ') || 'endpoints not in the dump'}).`,
          fixes: [],
        };
      }
      return { meaning: `A mesh service route: ${cluster} owns ${e.dst}${e.direction === 'inbound' ? ' and delivers it to the app' : ''}.`, fixes: [] };
    case 'no-healthy-upstream':
      return {
        meaning: `${e.proxy === 'gateway' ? `The gateway routes ${e.dst} to ${cluster}` : `${e.dst} belongs to ${cluster}`}, which has no endpoints in this dump: the ${e.proxy === 'gateway' ? 'gateway' : 'sidecar'} accepts the connection and has nowhere to send it. Its access log shows UH (no_healthy_upstream): a TCP connection closed at once, HTTP 503.`,
        fixes: [`kubectl get endpointslices for ${fqdnOf(cluster)}: are any pods ready? Check readiness probes and the Service selector.`],
      };
    case 'blackhole':
      if (e.steps.some((step) => step.includes('loop prevention'))) {
        return {
          meaning: `Port ${port} is the sidecar's own capture port: Istio drops connections addressed to it (chain ${e.filterChain?.name ?? 'virtual*-blackhole'}) so that traffic iptables redirected cannot loop through Envoy again. This is not outboundTrafficPolicy REGISTRY_ONLY.`,
          fixes: ['Nothing to fix in the mesh: dial the service port, not 15001/15006.'],
        };
      }
      return {
        meaning: 'The sidecar accepts the connection and drops it: BlackHoleCluster (outboundTrafficPolicy REGISTRY_ONLY, or Istio 1.3–1.5\'s chain for the pod\'s own IP) or a route that answers by itself.',
        fixes: ['Add a ServiceEntry for the destination, or use outboundTrafficPolicy ALLOW_ANY.'],
      };
    case 'rejected':
      if (e.steps.some((step) => step.includes('Envoy rejected listener') && step.startsWith('listener virtual'))) {
        return {
          meaning: `Envoy rejected the ${e.direction === 'inbound' ? 'virtualInbound' : 'virtualOutbound'} listener (see the step above) and runs without it: iptables still redirects to it, so connections are refused. The dump is complete; the listener is missing from Envoy itself.`,
          fixes: [
            'Fix the configuration Envoy rejected (often an EnvoyFilter, e.g. a Lua filter that does not load): istioctl proxy-status shows the NACK, the sidecar log the error.',
            'Remove the EnvoyFilter, and the sidecar gets a listener it accepts.',
          ],
        };
      }
      return e.direction === 'inbound'
        ? {
            meaning: `The server sidecar has no filter chain for this connection on port ${port}: it closes it and logs "NR filter_chain_not_found". Plaintext to a port under STRICT mTLS ends here.`,
            fixes: [
              'Let the client sidecar originate mTLS: call a Service hostname (a headless Service for pod IPs) instead of passthrough.',
              'Or relax the server with a PeerAuthentication in PERMISSIVE mode (for the workload or just this port).',
            ],
          }
        : { meaning: `${e.proxy === 'gateway' ? 'The gateway' : 'The client sidecar'} has nowhere to send this connection (${e.proxy === 'gateway' && e.listener === null ? 'no listener on that port' : 'no filter chain, virtual host or route matches'}).`, fixes: e.proxy === 'gateway' ? ['Check the Gateway servers (port, hosts) and the VirtualServices bound to the gateway for this Host and path.'] : [] };
    case 'unknown':
      if (e.unsupported) return { meaning: e.unsupported, fixes: ['Explain the client pod\'s sidecar instead: istioctl proxy-config all CLIENT_POD.NS -o json.'] };
      return { meaning: `The dump lacks what is needed to decide: ${e.missing.join('; ') || 'see the steps'}.`, fixes: ['Use the full dump: istioctl proxy-config all POD.NS -o json (it includes endpoints).'] };
  }
}

export function renderExplanation(e: Explanation, paint: (style: 'bold' | 'dim' | 'red' | 'green' | 'yellow', text: string) => string = (_s, t) => t): string {
  const colour = e.verdict === 'service' || e.verdict === 'passthrough' ? 'green' : e.verdict === 'unknown' ? 'yellow' : 'red';
  const lines = [paint('bold', `${e.direction} ${e.dst}`)];
  e.steps.forEach((step, i) => {
    const text = step.startsWith('verdict:') ? paint(colour, step) : step;
    lines.push(`  ${i === 0 ? ' ' : '→'} ${text}`);
  });
  const advice = advise(e);
  lines.push('', advice.meaning);
  if (advice.fixes.length > 0) {
    lines.push('', 'Fixes:');
    for (const fix of advice.fixes) lines.push(`  - ${fix}`);
  }
  if (e.missing.length > 0) {
    lines.push('', paint('yellow', 'Not in the dump or not decidable (the answer is less certain):'));
    for (const m of e.missing) lines.push(`  - ${m}`);
  }
  return `${lines.join('\n')}\n`;
}
