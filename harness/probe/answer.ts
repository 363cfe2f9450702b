/**
 * What the runner accepts as an agent's answer to a probe: exactly `count` results, each with an
 * outcome from the documented set. Anything else is a harness error (the connection was not
 * observed), never a pass: an empty list must not read as "nothing went wrong".
 */
import { PodpathError } from '../errors/index.ts';
import { PROBE_OUTCOMES, type ProbeRequest, type ProbeResult } from './contract.ts';

/** The agent's answer does not describe the connections asked for; the scenario cannot be judged. */
export class ProbeAnswerError extends PodpathError {}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the results when they answer `request`; throws ProbeAnswerError naming what is wrong. */
export function checkProbeAnswer(request: ProbeRequest, answer: unknown, from: string): ProbeResult[] {
  const want = request.count ?? 1;
  const hint = 'The agent and podpath versions may differ: re-run `podpath up` to redeploy the agent, then look at the agent container\'s log.';
  if (!Array.isArray(answer)) throw new ProbeAnswerError(`the agent in ${from} answered the probe of ${request.target} without a result list`, { hint });
  if (answer.length !== want) {
    throw new ProbeAnswerError(`the agent in ${from} answered the probe of ${request.target} with ${answer.length} result${answer.length === 1 ? '' : 's'} for ${want} connection${want === 1 ? '' : 's'}`, { hint });
  }
  answer.forEach((r, i) => {
    const where = `result ${i + 1} of the probe of ${request.target} from ${from}`;
    if (!isRecord(r)) throw new ProbeAnswerError(`${where} is not an object`, { hint });
    if (typeof r.outcome !== 'string' || !(PROBE_OUTCOMES as readonly string[]).includes(r.outcome)) {
      throw new ProbeAnswerError(`${where} has outcome ${JSON.stringify(r.outcome)}, not one of ${PROBE_OUTCOMES.join(', ')}`, { hint });
    }
    if (r.localAddress !== null && typeof r.localAddress !== 'string') throw new ProbeAnswerError(`${where} has no localAddress (string or null)`, { hint });
    if (r.protocol !== request.protocol) throw new ProbeAnswerError(`${where} is a ${String(r.protocol)} result for a ${request.protocol} probe`, { hint });
  });
  return answer as ProbeResult[];
}
