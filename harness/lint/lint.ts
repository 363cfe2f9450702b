import { UsageError } from '../errors/index.ts';
import { isKnownIstio, KNOWN_ISTIO, parseIstioVersion } from './istio-behaviour.ts';
import { loadResources, type Skipped } from './load.ts';
import { buildModel } from './model.ts';
import { runRules } from './rules.ts';
import { SEVERITY_ORDER, type Finding, type LintInput, type LintOptions } from './types.ts';

/**
 * Lints Kubernetes/Istio YAML for the mesh pitfalls docs/lint.md lists. Throws UsageError with
 * `file:line:col` for invalid YAML; findings come sorted by input order, line, severity, rule.
 */
/** Throws the UsageError podpath lint gives for a bad --istio; callers may check before reading input. */
export function checkIstioOption(istio: string | undefined): void {
  if (istio === undefined) return;
  const v = parseIstioVersion(istio);
  const range = `${KNOWN_ISTIO.oldest.major}.${KNOWN_ISTIO.oldest.minor} to ${KNOWN_ISTIO.newest.major}.${KNOWN_ISTIO.newest.minor}`;
  if (v === null) {
    throw new UsageError(`lint: --istio: '${istio}' is not an Istio version`, { hint: `Give MAJOR.MINOR or MAJOR.MINOR.PATCH from ${range}, e.g. --istio 1.22 or --istio 1.24.3` });
  }
  // A version the rules do not know would get some other version's severities without saying so.
  if (!isKnownIstio(v)) {
    throw new UsageError(`lint: --istio: Istio ${v.major}.${v.minor} is outside the versions podpath knows (${range})`, { hint: `Give the version the manifests run on, from ${range}; leave --istio out to lint without version-specific severities.` });
  }
}

export function lint(inputs: LintInput[], options: LintOptions = {}): Finding[] {
  checkIstioOption(options.istio);
  const skipped: Skipped[] = [];
  const onInputError = options.onInputError;
  const resources = loadResources(inputs, skipped, onInputError && ((error) => onInputError(error.message.split('\n')[0].replace(/^lint: /, ''))));
  for (const s of skipped) options.onSkip?.(s.file, s.line, s.reason);
  const model = buildModel(resources, options.pilotEnv ?? {});
  const findings = runRules(model, { istio: options.istio });
  const order = new Map(inputs.map((input, i) => [input.path, i]));
  return findings.sort((a, b) =>
    (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.rule.localeCompare(b.rule) || a.resource.localeCompare(b.resource));
}
