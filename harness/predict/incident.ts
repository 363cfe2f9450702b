/**
 * `podpath repro INCIDENT.yaml --offline`, with istiod: what the incident's Istio version would
 * build for the client's sidecar from the bed (where a repro plays it: manifests/base, the mesh
 * config `podpath up` installs with the incident's connectTimeout) plus the incident's manifests,
 * and the path of the reported connection in it. When that cannot be answered, says why.
 */
import { stringify } from 'yaml';
import { InterruptedError, isPodpathError } from '../errors/index.ts';
import { istioOperator, DEFAULT_CONNECT_TIMEOUT } from '../cluster/config.ts';
import { baselineDocuments, extraDocuments, parseDocuments, withoutAgentStamp, type KubeDocument } from '../manifests/index.ts';
import type { Incident } from '../runner/incident.ts';
import type { DumpGenerator } from '../oracle/types.ts';
import { oracleVersion, ORACLE_VERSIONS } from '../../oracle/versions.ts';
import { predictModel, type Destination, type PredictModel } from './model.ts';
import { predict, type Prediction } from './predict.ts';

export type IncidentPrediction =
  | { minor: string | null; answered: true; model: PredictModel; prediction: Prediction; destination: Destination }
  | { minor: string | null; answered: false; why: string };

function minorOf(version: string): string | null {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? `${Number(m[1])}.${Number(m[2])}` : null;
}

/** The documents a repro of the incident puts on the bed, in apply order. */
async function incidentDocuments(incident: Incident): Promise<KubeDocument[]> {
  // The loader's agent-hash stamp on pod templates is left out, as the goldens leave it out: it changes with every agent edit.
  const docs = (await baselineDocuments()).map(withoutAgentStamp);
  if (incident.mesh.mtls === 'STRICT') docs.push(...(await extraDocuments('strict-mtls')));
  for (const m of incident.manifests) docs.push(...(m.extra ? await extraDocuments(m.extra) : parseDocuments(m.text, m.source)));
  return docs;
}

function destinationOf(incident: Incident, model: PredictModel): Destination | string {
  const c = incident.connection;
  const http = c.protocol === 'http';
  if (c.dst !== null) return { given: c.dst, dst: c.dst, ...(http ? { host: c.dst } : {}) };
  const to = c.to;
  let ip: string | undefined;
  let what: string;
  if ('service' in to) {
    const svc = model.cluster.services.find((s) => s.name === to.service && !s.platform);
    ip = svc?.clusterIP && svc.clusterIP !== 'None' ? svc.clusterIP : undefined;
    what = `Service ${to.service}`;
  } else {
    const workload = to.pod === 'other-manager' ? 'manager' : to.pod;
    const pods = model.cluster.pods.filter((p) => p.workload === workload && p.name !== (to.pod === 'other-manager' ? model.client.name : ''));
    ip = pods[0]?.ip;
    what = `pod ${pods[0]?.name ?? to.pod}`;
  }
  if (!ip) return `connection.to (${JSON.stringify(to)}) has no address in the bed`;
  const dst = `${ip}:${c.port}`;
  return { given: dst, dst, resolved: `${what} on the bed`, ...(http ? { host: dst } : {}) };
}

export async function predictIncident(incident: Incident, generator: DumpGenerator, options: { signal?: AbortSignal; onProgress?: (line: string) => void } = {}): Promise<IncidentPrediction> {
  const minor = minorOf(incident.istio.version);
  const known = ORACLE_VERSIONS.map((v) => v.minor);
  if (minor === null || !oracleVersion(minor)) {
    return { minor, answered: false, why: `Istio ${incident.istio.version} is not a minor the istiod oracle covers (${known[0]}–${known.at(-1)})` };
  }
  const availability = await generator.availability(minor);
  if (availability.state === 'unavailable') return { minor, answered: false, why: `istiod ${minor} cannot be generated here: ${availability.reason}` };
  const from = incident.connection.from;
  if (from === null) return { minor, answered: false, why: `connection.from ${incident.connection.fromText ?? '(not given)'} is not one of the bed's workloads` };
  const meshConfig = (istioOperator({ logEncoding: 'text', connectTimeout: incident.mesh.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT }).spec as { meshConfig: unknown }).meshConfig;
  try {
    const model = predictModel(await incidentDocuments(incident), {
      from: { namespace: from, name: from },
      mesh: { meshConfig: stringify(meshConfig), pilotEnv: {}, description: `the bed's (podpath up), connectTimeout ${incident.mesh.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT}` },
      pilotEnv: { ...incident.istio.pilotEnv },
    });
    const destination = destinationOf(incident, model);
    if (typeof destination === 'string') return { minor, answered: false, why: destination };
    const prediction = await predict({ model, minors: [{ minor, explicit: true }], destinations: [destination], generator, signal: options.signal, onProgress: options.onProgress });
    return { minor, answered: true, model, prediction, destination };
  } catch (error) {
    if (!isPodpathError(error) || error instanceof InterruptedError) throw error;
    return { minor, answered: false, why: error.shortMessage.replace(/^predict: /, '') };
  }
}
