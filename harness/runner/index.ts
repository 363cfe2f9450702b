/** Public surface of harness/runner: the scenario model, the evaluation, and the suite runner. */
export * from './scenario.ts';
export { evaluate, globMatches, toExpectedPath, toObservedPath, responderOf, type Observation, type Evaluation } from './evaluate.ts';
