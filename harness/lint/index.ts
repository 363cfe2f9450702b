/** Public surface of harness/lint: `podpath lint` rules and the shared Istio version behaviour. */
export type { Finding, LintInput, LintOptions, Severity } from './types.ts';
export { checkIstioOption, lint } from './lint.ts';
export { RULES, formatHuman, findingToJson, summarize } from './format.ts';
export { DIRECT_POD_ANNOTATION, LINT_RULES, type LintRule } from './rules.ts';
export { externalNameCreatesListener, externalNameAliasFlagRead, dnsAutoAllocateDefault, dnsCaptureDefault, parseIstioVersion, envBool, isKnownIstio, KNOWN_ISTIO, type IstioVersion } from './istio-behaviour.ts';
export { servicePortProtocol, protocolFromName, PROTOCOL_PREFIXES, type IstioProtocol } from './protocol.ts';
