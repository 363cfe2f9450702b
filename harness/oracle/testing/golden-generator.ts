/**
 * Test support: a DumpGenerator that answers from the committed goldens (oracle/goldens), so code
 * built on the oracle is tested without Go. Each minor is mapped to one bed state; a request gets
 * that state's dump under the proxy key it asks for, and the record carries the request's input
 * hash as the Go program's would. Minors without a golden are unavailable, saying why.
 */
import { goldenMinors, listGoldens, readGolden, GOLDENS_DIR, type GoldenDump } from '../../../oracle/goldens.ts';
import { oracleVersion } from '../../../oracle/versions.ts';
import { InterruptedError } from '../../errors/index.ts';
import { OracleError } from '../errors.ts';
import type { DumpGenerator, GenerateRequest, OracleAvailability, OracleOutput } from '../types.ts';

export interface GoldenChoice {
  /** A bed state id under oracle/goldens/<minor>/, e.g. 'app-ext-externalname@ENABLE_EXTERNAL_NAME_ALIAS=false'. */
  state: string;
  /** The golden client file (default: the state's only one, `manager`). */
  client?: string;
}

export interface GoldenGeneratorOptions {
  /** minor → the golden that minor answers with. */
  minors: Readonly<Record<string, string | GoldenChoice>>;
  /**
   * The pilot env every request must carry (default: the golden's own, as recorded when it was
   * generated). A request with another env is refused: a golden made with one istiod env cannot
   * stand for another.
   */
  pilotEnv?: Readonly<Record<string, string>>;
  /** Default: oracle/goldens. */
  root?: string;
}

export interface GoldenGenerator extends DumpGenerator {
  /** Every request served or refused, in order, for assertions. */
  readonly requests: GenerateRequest[];
}

function sameEnv(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
}

function describeEnv(env: Readonly<Record<string, string>>): string {
  const entries = Object.entries(env);
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(',') : 'no pilot env';
}

export function goldenGenerator(options: GoldenGeneratorOptions): GoldenGenerator {
  const root = options.root ?? GOLDENS_DIR;
  const requests: GenerateRequest[] = [];

  function golden(minor: string): { golden: GoldenDump } | { reason: string } {
    const raw = options.minors[minor];
    if (raw === undefined) {
      const why = oracleVersion(minor)?.unavailable;
      return { reason: why ?? (goldenMinors(root).includes(minor) ? `this test maps no golden state to Istio ${minor}` : `no goldens are committed for Istio ${minor}`) };
    }
    const choice = typeof raw === 'string' ? { state: raw } : raw;
    const clients = listGoldens(root).filter((g) => g.minor === minor && g.state === choice.state).map((g) => g.client);
    const client = choice.client ?? (clients.length === 1 ? clients[0] : undefined);
    if (client === undefined) return { reason: clients.length ? `golden state ${minor}/${choice.state} has clients ${clients.join(', ')}: name one` : `no golden ${minor}/${choice.state} under ${root}` };
    const g = readGolden(minor, choice.state, client, root);
    return g ? { golden: g } : { reason: `no golden ${minor}/${choice.state}/${client} under ${root}` };
  }

  return {
    requests,
    async availability(minor: string): Promise<OracleAvailability> {
      const g = golden(minor);
      return 'golden' in g ? { state: 'ready' } : { state: 'unavailable', reason: g.reason };
    },
    async generate(request: GenerateRequest): Promise<OracleOutput> {
      requests.push(request);
      const g = golden(request.minor);
      if (!('golden' in g)) throw new OracleError(request.minor, 'unavailable', `no istiod oracle for Istio ${request.minor}: ${g.reason}`, { hint: 'Map the minor to a golden state in the test.' });
      const wantEnv = options.pilotEnv ?? g.golden.podpath_oracle.pilotEnv;
      if (!sameEnv(request.pilotEnv, wantEnv)) {
        throw new OracleError(request.minor, 'run', `golden ${request.minor}/${g.golden.podpath_oracle.state} was generated with ${describeEnv(wantEnv)}, the request asks for ${describeEnv(request.pilotEnv)}`, {
          hint: 'Map the minor to the golden state made with that env (its id ends in @ENV=VALUE).',
        });
      }
      if (request.signal?.aborted) throw new InterruptedError(`interrupted before generating Istio ${request.minor} sidecar config`);
      const { istioModule, istioCommit, goVersion } = g.golden.podpath_oracle;
      const dumps: OracleOutput['dumps'] = {};
      // Each request reads the golden afresh, so no two answers share objects.
      for (const p of request.input.proxies) dumps[`${p.pod}.${p.namespace}`] = { configs: g.golden.configs };
      return { record: { istioModule, istioCommit, goVersion, inputsHash: request.input.inputsHash }, dumps };
    },
  };
}

/** Every minor with goldens, mapped to the same bed state (for a test that wants them all). */
export function goldenGeneratorForState(state: string, options: Omit<GoldenGeneratorOptions, 'minors'> = {}): GoldenGenerator {
  const root = options.root ?? GOLDENS_DIR;
  const minors = Object.fromEntries(goldenMinors(root).filter((m) => listGoldens(root).some((g) => g.minor === m && g.state === state)).map((m) => [m, state]));
  return goldenGenerator({ ...options, minors });
}
