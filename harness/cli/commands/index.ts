import type { Command } from '../command.ts';

export interface CommandEntry {
  name: string;
  summary: string;
  /** Imported only when the command runs: `podpath logs` must not pay for client-node, tar or execa. */
  load(): Promise<Command>;
}

/** The command table, in the order --help lists it: offline tools first, then the live bed, then runs. */
export const commandTable: readonly CommandEntry[] = [
  { name: 'logs', summary: 'Read Istio sidecar access logs: decode, summarise, follow a connection, diagnose (offline)', load: async () => (await import('./logs.ts')).logsCommand },
  { name: 'explain', summary: "Predict the path of a connection from a sidecar's Envoy config dump (offline)", load: async () => (await import('./explain.ts')).explainCommand },
  { name: 'lint', summary: 'Find port collisions and mesh pitfalls in Kubernetes/Istio YAML (offline)', load: async () => (await import('./lint.ts')).lintCommand },
  { name: 'predict', summary: "What each Istio version's istiod would do with your manifests, and what an upgrade changes (no cluster)", load: async () => (await import('./predict.ts')).predictCommand },
  { name: 'versions', summary: 'List the Istio versions podpath can install, with the newest patch of each (offline)', load: async () => (await import('./versions.ts')).versionsCommand },
  { name: 'up', summary: 'Create a kind cluster with Istio and the podpath workloads (needs Docker)', load: async () => (await import('./up.ts')).upCommand },
  { name: 'down', summary: 'Delete the podpath kind cluster', load: async () => (await import('./down.ts')).downCommand },
  { name: 'status', summary: 'Show the podpath cluster: Istio version, mesh settings, workloads and readiness', load: async () => (await import('./status.ts')).statusCommand },
  { name: 'kubeconfig', summary: "Print the path of a podpath cluster's own kubeconfig (export KUBECONFIG=$(podpath kubeconfig))", load: async () => (await import('./kubeconfig.ts')).kubeconfigCommand },
  { name: 'run', summary: 'Run the scenarios and report which path each connection took (needs Docker)', load: async () => (await import('./run.ts')).runCommand },
  { name: 'report', summary: 'Re-render the reports of a finished run', load: async () => (await import('./report.ts')).reportCommand },
  { name: 'diff', summary: 'Compare two runs (e.g. Istio A vs B) and list what changed', load: async () => (await import('./diff.ts')).diffCommand },
  { name: 'repro', summary: 'Reproduce an incident file as a one-off scenario, or diagnose it offline', load: async () => (await import('./repro.ts')).reproCommand },
];

/** Every command loaded, for tests and documentation generators. */
export async function loadAllCommands(): Promise<Command[]> {
  return Promise.all(commandTable.map((entry) => entry.load()));
}
