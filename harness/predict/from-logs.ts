/** `--dst-from-logs`: every distinct destination a workload's sidecar log shows it dialling. Pure. */
import { parseLogText, type AccessLogEntry } from '../accesslog/index.ts';
import type { Destination } from './model.ts';

export interface LogDestinations {
  destinations: Destination[];
  /** Entries read, and why others were not used. */
  entries: number;
  notOutbound: number;
  otherPod: number;
  noAddress: number;
}

function isOutbound(e: AccessLogEntry): boolean {
  return e.cluster.direction === 'outbound' || e.cluster.kind === 'passthrough' || e.cluster.kind === 'blackhole';
}

/** A pod name from a log prefix belongs to the workload when it is the workload's name plus generated suffixes. */
function podOfWorkload(pod: string, workload: string): boolean {
  const name = pod.split(/[./\s]/)[0];
  return name === workload || name.startsWith(`${workload}-`);
}

/**
 * Outbound entries only (the client sidecar's), by %DOWNSTREAM_LOCAL_ADDRESS% (the address the app
 * dialled, which the capture keeps as the original destination); HTTP entries keep their Host.
 */
export function destinationsFromLog(text: string, source: string, workload: string): LogDestinations {
  const { entries } = parseLogText(text, { source });
  const seen = new Map<string, Destination>();
  let notOutbound = 0;
  let otherPod = 0;
  let noAddress = 0;
  for (const e of entries) {
    if (!isOutbound(e)) {
      notOutbound++;
      continue;
    }
    if (e.pod !== null && !podOfWorkload(e.pod, workload)) {
      otherPod++;
      continue;
    }
    const dst = e.downstreamLocalAddress;
    if (dst === null || !/:\d+$/.test(dst)) {
      noAddress++;
      continue;
    }
    const host = e.method !== null && e.authority !== null ? e.authority : undefined;
    const key = `${dst} ${host ?? ''}`;
    if (!seen.has(key)) seen.set(key, { given: dst, dst, ...(host !== undefined ? { host } : {}), resolved: `seen in ${source}:${e.line}` });
  }
  return { destinations: [...seen.values()], entries: entries.length, notOutbound, otherPod, noAddress };
}
