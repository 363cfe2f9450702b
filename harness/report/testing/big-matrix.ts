/**
 * Test and benchmark input (not shipped in any output): 11 runs, one per Istio minor, of the same
 * 13 scenarios, about a quarter of them failing with evidence: the size of a nightly's matrix.
 */
import { failingScenario, report, scenario, target } from './fixtures.ts';
import type { RunReport } from '../schema.ts';

export function bigMatrix(versions = 11, scenarios = 13): RunReport[] {
  const labels = Array.from({ length: versions }, (_, i) => `1.${20 + i}.0`);
  const ids = Array.from({ length: scenarios }, (_, i) => `scenario-${i}`);
  return labels.map((v, i) => report([target(v, ids.map((id, j) => ((i + j) % 4 === 0 ? { ...failingScenario(), id } : scenario({ id }))))], { id: `run-${i}` }));
}
