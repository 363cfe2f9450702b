/**
 * `podpath lint [FILE...|-]`: offline checks of Kubernetes/Istio YAML for the port collisions
 * and mesh pitfalls behind the seed incidents (rules PP001-PP006, docs/lint.md).
 */
import { readFile, stat } from 'node:fs/promises';
import { inputPaths, type Command, type CommandContext } from '../command.ts';
import { paint, write } from '../output.ts';
import { parseByteSize } from '../size.ts';
import { UsageError } from '../../errors/index.ts';
import { manifestFilesUnder } from '../../manifests/index.ts';
import { checkIstioOption, findingToJson, formatHuman, lint, RULES, type LintInput } from '../../lint/index.ts';

const STDIN_NAME = '<stdin>';

/** Manifests are kilobytes; 64 MiB in all keeps a runaway pipe or a huge file from taking the machine. */
const DEFAULT_MAX_INPUT = 64 << 20;

function tooLarge(what: string, cap: number): UsageError {
  const size = cap >= 1 << 20 ? `${Math.round(cap / (1 << 20))} MiB` : cap >= 1 << 10 ? `${Math.round(cap / (1 << 10))} KiB` : `${cap} bytes`;
  return new UsageError(`lint: ${what} is more than the ${size} input cap (--max-input-size)`, { hint: 'Lint the manifests in smaller pieces, or raise the cap, e.g. --max-input-size 256M.' });
}

/** Reads stdin up to `budget` bytes; one more is an error, so memory stays under the cap. */
async function readStdin(stream: NodeJS.ReadableStream, budget: number, cap: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    if (size > budget) throw tooLarge('stdin', cap);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function ioError(path: string, error: unknown): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
  return new UsageError(`lint: ${path}: ${why}`, { cause: error });
}

/** A directory stands for the YAML/JSON files under it, in name order. */
async function expand(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw ioError(path, error);
  }
  // Lint reads what it is pointed at, hidden directories included.
  return info.isDirectory() ? await manifestFilesUnder(path) : [path];
}

function parsePilotEnv(values: unknown): Record<string, string> {
  const list = Array.isArray(values) ? values : values === undefined ? [] : [values];
  const env: Record<string, string> = {};
  for (const item of list) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`lint: --pilot-env needs K=V, not '${text}'`, { hint: 'e.g. --pilot-env ENABLE_EXTERNAL_NAME_ALIAS=false' });
    env[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return env;
}

export const lintCommand: Command = {
  name: 'lint',
  summary: 'Find port collisions and mesh pitfalls in Kubernetes/Istio YAML (offline)',
  usage: '[FILE...|DIR...|-] [--istio VERSION] [--pilot-env K=V ...] [--json]',
  details: [
    'Reads multi-document YAML and kind: List (kubectl get svc,se,sidecar,vs -A -o yaml), files, directories',
    '(their *.yaml, *.yml, *.json) or - (stdin, also the default when stdin is not a terminal).',
    'Mesh settings found in the input (IstioOperator, the istio ConfigMap, a root ProxyConfig) are used;',
    '--istio and --pilot-env say what the input cannot (ISTIO_META_* keys count as mesh-wide proxy metadata).',
    '',
    'Rules:',
    ...RULES.map((r) => `  ${r.id}  ${r.name}: ${r.title}`),
    '',
    'Examples:',
    '  kubectl get svc,se,sidecar,vs -A -o yaml | podpath lint --istio 1.22',
    '  podpath lint manifests/ --istio 1.22 --pilot-env ENABLE_EXTERNAL_NAME_ALIAS=false',
    '  podpath lint app.yaml --json | jq -c "select(.severity == \\"error\\")"',
    '',
    '--json prints NDJSON: one object per finding, keys rule, severity, resource, file, line, message, fix.',
    'A document that is not valid YAML (a Go template, say) is reported as an input error with file:line:col',
    'on stderr and left out; everything else is linted.',
    'Exit codes: 0 no error-level finding, 1 at least one error, 2 usage error, an unreadable file, or nothing',
    'could be linted (every input had an input error).',
    'Guide: docs/lint.md',
  ].join('\n'),
  options: {
    istio: { type: 'string', valueName: 'VERSION', description: 'Istio version the manifests run on, e.g. 1.22 (severities depend on it)' },
    'pilot-env': { type: 'string', multiple: true, valueName: 'K=V', description: 'istiod environment, e.g. ENABLE_EXTERNAL_NAME_ALIAS=false (repeatable)' },
    json: { type: 'boolean', description: 'NDJSON: one finding per line' },
    'max-input-size': { type: 'string', valueName: 'SIZE', description: `most bytes read from all inputs together, e.g. 256M (default ${DEFAULT_MAX_INPUT >> 20}M)` },
  },
  allowPositionals: true,

  async run(ctx: CommandContext): Promise<number> {
    const { values, io } = ctx;
    const istio = typeof values.istio === 'string' ? values.istio : undefined;
    checkIstioOption(istio);
    const pilotEnv = parsePilotEnv(values['pilot-env']);

    const paths = inputPaths(ctx, 'lint', 'Give YAML files, or pipe them in: kubectl get svc,se,sidecar,vs -A -o yaml | podpath lint -');

    const capText = typeof values['max-input-size'] === 'string' ? values['max-input-size'] : undefined;
    const cap = capText === undefined ? DEFAULT_MAX_INPUT : parseByteSize('lint: --max-input-size', capText);
    let budget = cap;
    const inputs: LintInput[] = [];
    for (const p of paths) {
      if (p === '-') {
        const text = await readStdin(io.stdin, budget, cap);
        budget -= Buffer.byteLength(text);
        inputs.push({ path: STDIN_NAME, text });
        continue;
      }
      const files = await expand(p);
      if (files.length === 0) throw new UsageError(`lint: ${p}: no *.yaml, *.yml or *.json files in this directory`);
      for (const file of files) {
        let text: string;
        try {
          if ((await stat(file)).size > budget) throw tooLarge(file, cap);
          text = await readFile(file, 'utf8');
        } catch (error) {
          if (error instanceof UsageError) throw error;
          throw ioError(file, error);
        }
        budget -= Buffer.byteLength(text);
        inputs.push({ path: file, text });
      }
    }

    const skipped: string[] = [];
    const unreadable: string[] = [];
    const findings = lint(inputs, {
      istio, pilotEnv,
      onSkip: (file, line, reason) => skipped.push(`${file}:${line}: skipped: ${reason}`),
      onInputError: (message) => unreadable.push(message),
    });
    for (const note of skipped) await write(io.stderr, `podpath: lint: ${note}\n`);
    // A document that is not YAML (a Helm template, say) is reported and left out; the rest is linted.
    for (const message of unreadable) await write(io.stderr, `podpath: lint: ${message} (input error: this document was not linted)\n`);
    const unreadableFiles = new Set(unreadable.map((m) => m.slice(0, m.search(/:\d+:\d+: /))));
    if (unreadable.length > 0 && inputs.every((input) => unreadableFiles.has(input.path))) {
      throw new UsageError(`lint: nothing could be linted: every input has a document that is not valid YAML (${unreadable.length} input error${unreadable.length === 1 ? '' : 's'} above)`, {
        hint: 'Fix the YAML (kubectl apply --dry-run=client -f FILE shows the same problem); render Helm charts first (helm template ...).',
      });
    }
    if (values.json === true) {
      await write(io.stdout, findings.map((f) => findingToJson(f) + '\n').join(''));
    } else {
      await write(io.stdout, formatHuman(findings, (style, text) => paint(style, text, io.stdout)));
    }
    return findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};
