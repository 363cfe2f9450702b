/** Human text for up/down/status: phase timings against the budget, and the status table. */
import type { ClusterStatus } from './bed.ts';

/** Budgets from the issue: fresh cluster + Istio + workloads on a 2-core runner with images preloaded; --reuse check. */
export const BUDGET_FRESH_MS = 4 * 60_000;
export const BUDGET_REUSE_MS = 5_000;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatTimings(timings: Record<string, number>, reuse: boolean): string {
  const total = Object.values(timings).reduce((a, b) => a + b, 0);
  const budget = reuse ? BUDGET_REUSE_MS : BUDGET_FRESH_MS;
  const parts = Object.entries(timings).map(([phase, ms]) => `${phase} ${seconds(ms)}`);
  const verdict = total <= budget ? 'within' : 'OVER';
  return `phase timings: ${parts.join(', ')}; total ${seconds(total)} (${verdict} the ${reuse ? '--reuse' : 'fresh bring-up'} budget of ${seconds(budget)})`;
}

export function renderStatus(status: ClusterStatus): string {
  if (!status.exists) return `cluster    ${status.name}: no such kind cluster (create it with 'podpath up --name ${status.name}')\n`;
  const lines = [
    `cluster    ${status.name} (context ${status.context})${status.podpath ? ', created by podpath' : status.markerError ? `, podpath marker unreadable (${status.markerError})` : ', NOT created by podpath (no marker)'}`,
  ];
  if (!status.podpath) return `${lines.join('\n')}\n`;
  lines.push(
    `kubeconfig ${status.kubeconfig ?? '(none)'}${status.kubeconfig ? '  (podpath\'s own; yours is untouched: export KUBECONFIG=$(podpath kubeconfig' + (status.name === 'podpath' ? '' : ` ${status.name}`) + ') to use kubectl on it)' : ''}`,
    `istio      ${status.istio.version ?? 'not installed'}${status.istio.source ? ` (from the ${status.istio.source})` : ''}`,
  );
  const m = status.marker;
  if (m) {
    const env = Object.entries(m.pilotEnv).map(([k, v]) => `${k}=${v}`).join(' ');
    lines.push(`mesh       access log ${m.logEncoding.toUpperCase()}, connectTimeout ${m.connectTimeout || 'Istio default (10s)'}${env ? `, pilot env ${env}` : ''}${m.revision ? `, revision ${m.revision}` : ''}`);
    lines.push(`node       ${m.nodeImage} (kind ${m.kind})`);
  }
  lines.push('workloads');
  const width = Math.max(...status.workloads.map((w) => w.namespace.length));
  for (const w of status.workloads) {
    const ready = w.pods.filter((p) => p.ready).length;
    const pods = w.pods.map((p) => `${p.name}${p.ready ? '' : ' (not ready)'}${p.ip ? ` ${p.ip}` : ''}`).join(', ');
    lines.push(`  ${w.namespace.padEnd(width)}  ${ready}/${w.pods.length} ready${pods ? `  ${pods}` : '  (no pods)'}`);
  }
  lines.push(`ready      ${status.ready ? 'yes' : 'no'}`);
  return `${lines.join('\n')}\n`;
}
