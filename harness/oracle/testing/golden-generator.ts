/**
 * Test double of the istiod generation step (predict's and repro's tests): serves the committed goldens
 * (real istiod output), but only for the very input istiod was given to make one: the hash is
 * recomputed from the request's content, so a predict that builds any other input (another pod
 * IP, mesh config, env, label) gets no answer instead of a golden that does not belong to it.
 */
import { inputsHash } from '../cluster-model.ts';
import type { DumpGenerator, GenerateRequest, OracleAvailability } from '../types.ts';
import { goldenMinors, listGoldens, readGolden, type GoldenDump } from '../../../oracle/goldens.ts';
import { oracleIstioVersion, oracleVersion } from '../../../oracle/versions.ts';

export function goldenGenerator(options: { buildable?: readonly string[]; unavailable?: Record<string, string>; calls?: GenerateRequest[] } = {}): DumpGenerator {
  let index: Map<string, GoldenDump> | null = null;
  const golden = (minor: string, hash: string): GoldenDump | undefined => {
    index ??= new Map(listGoldens().map((g) => {
      const d = readGolden(g.minor, g.state, g.client)!;
      return [`${g.minor} ${d.podpath_oracle.inputsHash}`, d] as const;
    }));
    return index.get(`${minor} ${hash}`);
  };
  return {
    async availability(minor): Promise<OracleAvailability> {
      if (options.unavailable?.[minor]) return { state: 'unavailable', reason: options.unavailable[minor] };
      if (options.buildable?.includes(minor)) return { state: 'buildable', reason: 'not built yet: a one-time go build' };
      if (goldenMinors().includes(minor)) return { state: 'ready' };
      return { state: 'unavailable', reason: oracleVersion(minor)?.unavailable ?? `no goldens for ${minor}` };
    },
    async generate(request) {
      options.calls?.push(request);
      const { input } = request;
      request.onProgress?.('generating from the committed goldens');
      const hash = inputsHash({ ...input, pilotEnv: request.pilotEnv, proxies: input.proxies.map(({ istioVersion: _v, ...p }) => p) });
      if (hash !== input.inputsHash) throw new Error('the request\'s inputsHash does not match its content');
      const known = oracleVersion(request.minor);
      const release = known ? oracleIstioVersion(known) : undefined;
      if (input.proxies.some((p) => p.istioVersion !== release)) throw new Error(`proxies must report ${release}`);
      const g = golden(request.minor, hash);
      if (!g) throw new Error(`no golden was generated from this input for ${request.minor}`);
      const { podpath_oracle: record, configs } = g;
      return { record, dumps: Object.fromEntries(input.proxies.map((p) => [`${p.pod}.${p.namespace}`, { configs }])) };
    },
  };
}

