/**
 * The bed's topology as plain data: scenarios, the loader and the
 * manifest tests all read these, so a port or name lives in exactly one place besides the YAML,
 * and manifests/manifests.test.ts fails when the two disagree.
 */

export const TCP_PORT = 5701;
export const HTTP_PORT = 8080;
export const CONTROL_PORT = 15999;

export const PART_OF_LABEL = 'app.kubernetes.io/part-of';
export const PART_OF_VALUE = 'podpath';
export const PART_OF = { [PART_OF_LABEL]: PART_OF_VALUE } as const;

export const NAMESPACES = ['manager', 'app', 'idle'] as const;
export type NamespaceName = (typeof NAMESPACES)[number];

/** ConfigMap in every namespace holding the agent's files, mounted at AGENT_MOUNT. */
export const AGENT_CONFIGMAP = 'podpath-agent';
export const AGENT_MOUNT = '/agent';

/** One file the agent ConfigMap ships: its key (keys cannot hold `/`) and where the volume projects it. */
export interface AgentFile {
  key: string;
  /** Path under AGENT_MOUNT, and under harness/ in the repo: the same layout, so relative imports resolve alike. */
  path: string;
}

/**
 * The agent and its import closure (harness/architecture.test.ts checks that this is exactly the
 * closure of harness/workload/agent.ts). The Deployments' volume `items` project each key to its path.
 */
export const AGENT_FILES: readonly AgentFile[] = [
  { key: 'agent.ts', path: 'workload/agent.ts' },
  { key: 'contract.ts', path: 'probe/contract.ts' },
];
/** What the agent container runs: `node AGENT_ENTRY [flags]`. */
export const AGENT_ENTRY = `${AGENT_MOUNT}/workload/agent.ts`;
/**
 * The agent's image, pinned by digest: agent.ts needs Node's type stripping (24.x), and a floating
 * tag may resolve to an older image already in a local cache. Node 24.16.0 on Alpine 3.22; the
 * index digest is the one Renovate pinned for this tag in actions-rs-plus/clippy-check (Dockerfile,
 * commit 33ba669, "update node.js to 191c9f0"), also used by other public repositories.
 */
export const AGENT_IMAGE = 'docker.io/library/node:24.16.0-alpine3.22@sha256:191c9f0080fcbbc6547a85dc0ff7988072214a355aabdc1d2ec55a7dae5eea8a';
/** Container name of the agent in every workload (the sidecar is `istio-proxy`). */
export const AGENT_CONTAINER = 'agent';
export const SIDECAR_CONTAINER = 'istio-proxy';

export interface WorkloadPort {
  name: string;
  port: number;
}

export interface Workload {
  namespace: NamespaceName;
  /** Deployment name, also its `app` label. */
  name: string;
  replicas: number;
  /** TCP echo ports the agent binds (the seed's Hazelcast port), empty when it binds none. */
  tcpPorts: readonly number[];
  httpPort: number;
  ports: readonly WorkloadPort[];
}

export const WORKLOADS = {
  manager: {
    namespace: 'manager',
    name: 'manager',
    replicas: 2,
    tcpPorts: [TCP_PORT],
    httpPort: HTTP_PORT,
    ports: [
      { name: 'tcp-hazelcast', port: TCP_PORT },
      { name: 'http', port: HTTP_PORT },
    ],
  },
  app: {
    namespace: 'app',
    name: 'app',
    replicas: 1,
    tcpPorts: [TCP_PORT],
    httpPort: HTTP_PORT,
    ports: [
      { name: 'tcp-hazelcast', port: TCP_PORT },
      { name: 'http', port: HTTP_PORT },
    ],
  },
  // Like the seed's idle pod: it serves HTTP only and does NOT bind 5701.
  idle: {
    namespace: 'idle',
    name: 'idle',
    replicas: 1,
    tcpPorts: [],
    httpPort: HTTP_PORT,
    ports: [{ name: 'http', port: HTTP_PORT }],
  },
} as const satisfies Record<string, Workload>;

export interface ServiceSpec {
  namespace: NamespaceName;
  name: string;
  /** Deployment whose pods it selects. */
  selects: keyof typeof WORKLOADS;
  headless: boolean;
  ports: readonly WorkloadPort[];
}

export const SERVICES = {
  manager: { namespace: 'manager', name: 'manager', selects: 'manager', headless: false, ports: WORKLOADS.manager.ports },
  app: { namespace: 'app', name: 'app', selects: 'app', headless: false, ports: WORKLOADS.app.ports },
  idle: { namespace: 'idle', name: 'idle', selects: 'idle', headless: false, ports: WORKLOADS.idle.ports },
} as const satisfies Record<string, ServiceSpec>;

/**
 * The headless Service over the manager pods, an extra (manifests/extras/manager-headless.yaml),
 * never in the baseline: istiod builds a <podIP>_PORT listener per endpoint for a headless
 * Service's TCP ports, which would take the seed's manager → manager pod-IP traffic on 5701 away
 * from PassthroughCluster. HTTP 8080 only, for the second seed's scenarios.
 */
export const MANAGER_HEADLESS = {
  namespace: 'manager',
  name: 'manager-headless',
  selects: 'manager',
  headless: true,
  ports: [{ name: 'http', port: HTTP_PORT }],
} as const satisfies ServiceSpec;

/** FQDNs scenarios use as targets and in expectations (`outbound|5701||FQDN`). */
export const FQDN = {
  manager: 'manager.manager.svc.cluster.local',
  managerHeadless: 'manager-headless.manager.svc.cluster.local',
  app: 'app.app.svc.cluster.local',
  idle: 'idle.idle.svc.cluster.local',
} as const;

/** The seed's ExternalName: `app-ext` in `app`, a CNAME to idle (which does not bind 5701). */
export const APP_EXT = { namespace: 'app', name: 'app-ext', externalName: FQDN.idle } as const;

/** Host of the ServiceEntry that reproduces the collision on Istio >= 1.24. */
export const SERVICE_ENTRY_HOST = 'hazelcast.external.example';

/** Port the `fix-distinct-ports` extra moves app-ext's TCP port to (nobody else uses it). */
export const DISTINCT_TCP_PORT = 5702;

/** Scenario extras: each is `manifests/extras/NAME.yaml`. */
export const EXTRAS = [
  'app-ext-externalname',
  'fix-drop-port',
  'fix-exportto-dot',
  'fix-sidecar-egress',
  'fix-virtualservice',
  'fix-distinct-ports',
  'serviceentry-dns-5701',
  'strict-mtls',
  'permissive-mtls',
  'manager-headless',
] as const;
export type ExtraName = (typeof EXTRAS)[number];

export function isExtraName(name: string): name is ExtraName {
  return (EXTRAS as readonly string[]).includes(name);
}
