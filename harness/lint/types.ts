/** The lint contract: what every finding carries. */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  /** PP001..PP006 */
  rule: string;
  /** The rule's readable name, e.g. `externalname-ports`. */
  name: string;
  severity: Severity;
  /** `kind/namespace/name`; cluster-scoped resources are `kind/name`. */
  resource: string;
  file: string;
  /** 1-based line of the resource, or of the offending port when the finding is about one port. */
  line: number;
  message: string;
  fix: string;
}

export interface LintInput {
  /** Shown in findings and errors; `-` (stdin) is shown as `<stdin>` by the CLI. */
  path: string;
  text: string;
}

export interface LintOptions {
  /** Istio version the manifests run on, e.g. `1.22` or `1.24.3`; unknown when absent. */
  istio?: string;
  /** istiod environment (e.g. ENABLE_EXTERNAL_NAME_ALIAS); `ISTIO_META_*` keys count as mesh-wide proxy metadata. */
  pilotEnv?: Record<string, string>;
  /** Told about each YAML mapping left out because it has no `kind` (e.g. a Helm values file). */
  onSkip?: (file: string, line: number, reason: string) => void;
  /**
   * Told about each YAML document that cannot be read (invalid YAML, a Go template, not a
   * mapping): with it, such documents are left out and the rest is linted; without it, the
   * first one throws.
   */
  onInputError?: (message: string) => void;
}

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
