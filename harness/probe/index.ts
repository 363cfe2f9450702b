/**
 * The probe library: what a connection attempt did and how podpath names it. The code lives in
 * the in-pod agent (harness/workload/agent.ts, which must stay one node:*-only file for pods);
 * this is its public surface for the rest of podpath.
 */
export type {
  ProbeProtocol,
  ProbeOutcome,
  Identity,
  ProbeRequest,
  ProbeResult,
  AgentOptions,
  Agent,
  AttemptEnd,
  FailureObservation,
  ReplyVerdict,
  RunProbeOptions,
  AgentCommand,
} from '../workload/agent.ts';
export {
  PROBE_OUTCOMES,
  LIMITS,
  WHO_LINE,
  ProbeRequestError,
  AgentUsageError,
  validateProbeRequest,
  parseTarget,
  classifyFailure,
  evaluateTcpReply,
  toIdentity,
  parseIdentityText,
  formatAddress,
  plainIp,
  runProbe,
  startAgent,
  parseAgentArgs,
  WhoFilter,
  USAGE as AGENT_USAGE,
} from '../workload/agent.ts';
export { checkProbeAnswer, ProbeAnswerError } from './answer.ts';
