/**
 * The probe library: what a connection attempt did and how podpath names it. The contract
 * (request, result, outcomes, classification) is contract.ts, which the in-pod agent
 * (harness/workload/agent.ts) is built from; host code reaches probes through this surface and
 * never imports the agent, whose file ships into pods.
 */
export type {
  ProbeProtocol,
  ProbeOutcome,
  Identity,
  ProbeRequest,
  ProbeResult,
  AttemptEnd,
  FailureObservation,
  ReplyVerdict,
} from './contract.ts';
export {
  PROBE_OUTCOMES,
  LIMITS,
  WHO_LINE,
  REPORTED_RESPONSE_HEADERS,
  ProbeRequestError,
  validateProbeRequest,
  parseTarget,
  classifyFailure,
  evaluateTcpReply,
  boundedIdentity,
  toIdentity,
  parseIdentityText,
  formatAddress,
  plainIp,
} from './contract.ts';
export { checkProbeAnswer, ProbeAnswerError } from './answer.ts';
