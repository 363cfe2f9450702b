import type { Command, Values } from '../command.ts';
import { paint, printable, write, type Io } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { ISTIO_MINORS, resolveIstio } from '../../cluster/index.ts';
import type { KubeDocument } from '../../kube/index.ts';
import { parseDocuments } from '../../manifests/index.ts';
import { formatHuman } from '../../lint/index.ts';
import { DEFAULT_MAX_DUMP_BYTES, renderExplanation } from '../../envoy/index.ts';
import { parseByteSize } from '../size.ts';
import { checkIncidentKind, describeEnv, diagnoseOffline, incidentScenario, loadIncident, runSuite, type Incident, type OfflineDiagnosis, type SuiteDeps } from '../../runner/index.ts';
import type { ScenarioReport } from '../../report/index.ts';
import { terminalSink, type TerminalSinkOptions } from '../suite-output.ts';
import type { DumpGenerator } from '../../oracle/types.ts';
import { incidentPredictionJson, predictIncident, renderIncidentPrediction, type IncidentPrediction } from '../../predict/index.ts';

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

function renderOffline(incident: Incident, d: OfflineDiagnosis, why: string, io: Io, predicted: IncidentPrediction): string {
  const out: string[] = [`${paint('bold', `Offline diagnosis of ${incident.file}`, io.stdout)} (${why})`, ''];
  out.push(paint('bold', 'Reported log lines', io.stdout));
  if (d.entries.length === 0) out.push('  (no reported lines could be read)');
  for (const e of d.entries) out.push(`  ${printable(e.upstreamCluster ?? '-')}  flags ${printable(e.responseFlags.join(',') || '-')}  (${e.format})`);
  out.push('', paint('bold', 'What they mean', io.stdout));
  if (d.diagnoses.length === 0) out.push('  nothing known matches these lines');
  for (const g of d.diagnoses) {
    out.push(`  ${g.severity.padEnd(7)} ${g.id}: ${g.title}${g.inferred ? ' (inferred)' : ''}`, `          ${g.meaning}`);
    for (const fix of g.fixes) out.push(`          fix: ${fix}`);
  }
  out.push('', paint('bold', `Manifests, linted for Istio ${incident.istio.version}`, io.stdout));
  out.push(d.findings.length ? formatHuman(d.findings).replace(/^/gm, '  ').trimEnd() : incident.manifests.length ? '  no findings' : '  (the incident has no manifests)');
  out.push('', paint('bold', 'Config dump', io.stdout));
  out.push(d.explanation ? renderExplanation(d.explanation).replace(/^/gm, '  ').trimEnd() : `  ${d.explainNote}`);
  out.push('', paint('bold', `What istiod ${predicted.minor ?? incident.istio.version} would build (podpath predict)`, io.stdout));
  out.push(...renderIncidentPrediction(predicted));
  return `${out.join('\n')}\n`;
}

function sideBySide(incident: Incident, s: ScenarioReport): string {
  const observed = s.probes[0]?.observed[0] ?? null;
  const rows: Array<[string, string, string]> = [
    ['outcome', incident.reported.outcome ?? '-', observed?.outcome ?? '-'],
    ['client sidecar', incident.reported.client ?? '-', observed?.client?.line ?? '(no entry)'],
    ['server sidecar', incident.reported.server ?? '(none reported)', observed?.server?.line ?? '(no entry)'],
  ];
  return rows.map(([what, reported, seen]) => `  ${what}\n    reported: ${printable(reported)}\n    observed: ${printable(seen)}`).join('\n');
}

/** The istiod oracle, imported only when an offline repro asks it (it brings the Go build machinery). */
async function oracleGenerator(io: Io): Promise<DumpGenerator> {
  const { createOracleGenerator } = await import('../../oracle/generator.ts');
  return createOracleGenerator({ env: io.env });
}

export interface ReproOptions extends Partial<SuiteDeps>, TerminalSinkOptions {
  /** What answers "what would istiod build" offline; default: the real oracle. */
  predictGenerator?: (io: Io) => DumpGenerator | Promise<DumpGenerator>;
}

export function makeReproCommand({ stdinIsTTY, stderrIsTTY, predictGenerator = oracleGenerator, ...deps }: ReproOptions = {}): Command {
  return {
    name: 'repro',
    summary: 'Reproduce an incident file as a one-off scenario, or diagnose it offline',
    usage: 'INCIDENT.yaml [--offline] [--name NAME] [--results DIR] [--json]',
    details: [
      'An incident file holds the Istio version and mesh settings, the manifests (inline, by path, or a',
      'podpath extra by name), the failing connection and the log lines reported (docs/scenarios.md).',
      'Live: attaches to the bed (--name, default podpath; create it with podpath up), plays the',
      'connection as a one-off scenario and says reproduced / not reproduced, reported vs observed.',
      'Offline (--offline, or when no bed is reachable, which it says): explains the reported lines,',
      'lints the manifests for the reported Istio version, and explains a config dump if included; when the',
      "incident's Istio minor can be generated here (podpath predict), it adds what that istiod would build",
      "for the client's sidecar from the bed plus the incident's manifests, or says why it cannot.",
      "path: entries are read from the incident's folder only; a live repro applies only mesh kinds",
      '(Service, Endpoints, EndpointSlice and Istio networking/security objects: docs/scenarios.md).',
      '',
      'Example: podpath repro scenarios/incidents/hazelcast-externalname.yaml --offline',
      '',
      'Exit codes: 0 reproduced (or diagnosed offline), 1 not reproduced, 2 usage or environment error,',
      '130 interrupted.',
    ].join('\n'),
    options: {
      offline: { type: 'boolean', description: 'diagnose without a cluster: reported lines, lint, config dump' },
      name: { type: 'string', valueName: 'NAME', description: 'kind cluster to attach to (default podpath)' },
      results: { type: 'string', valueName: 'DIR', description: 'where the run directory goes (default results)' },
      json: { type: 'boolean', description: 'machine-readable result on stdout' },
      'allow-files-under': { type: 'string', valueName: 'DIR', description: "let path: entries name files under DIR too (default: the incident's folder only)" },
      'max-dump-size': { type: 'string', valueName: 'SIZE', description: `largest configDump.path read or decompressed, e.g. 1G (default ${DEFAULT_MAX_DUMP_BYTES >> 20}M)` },
    },
    allowPositionals: true,
    async run({ values, positionals, io, signal }) {
      if (positionals.length !== 1) throw new UsageError('repro needs exactly one INCIDENT.yaml', { hint: "Run 'podpath repro --help' for the format." });
      const path = positionals[0].startsWith('/') ? positionals[0] : `${io.cwd}/${positionals[0]}`;
      const allowUnder = str(values, 'allow-files-under');
      const maxDumpSize = str(values, 'max-dump-size');
      const incident = await loadIncident(path, {
        allowUnder: allowUnder === undefined ? [] : [allowUnder.startsWith('/') ? allowUnder : `${io.cwd}/${allowUnder}`],
        maxDumpBytes: maxDumpSize === undefined ? undefined : parseByteSize('repro: --max-dump-size', maxDumpSize),
      });
      const json = values.json === true;
      const offline = async (why: string): Promise<number> => {
        const d = diagnoseOffline(incident);
        const predicted = await predictIncident(incident, await predictGenerator(io), { signal, onProgress: (line) => io.stderr.write(`repro: istiod ${line}\n`) });
        if (json) {
          await write(io.stdout, `${JSON.stringify({ incident: incident.id, mode: 'offline', why, diagnoses: d.diagnoses.map(({ evidence: _e, ...rest }) => rest), findings: d.findings, explanation: d.explanation, explainNote: d.explainNote, predict: incidentPredictionJson(predicted) }, null, 2)}\n`);
        } else {
          await write(io.stdout, renderOffline(incident, d, why, io, predicted));
        }
        return 0;
      };
      if (values.offline === true) return await offline('--offline');

      const documents = new Map<string, KubeDocument[]>();
      incident.manifests.forEach((m, i) => {
        if (m.extra) return;
        const docs = parseDocuments(m.text, m.source);
        for (const doc of docs) checkIncidentKind(doc.kind, `${m.source} (${doc.kind}/${doc.metadata.name})`);
        documents.set(`incident-${i}`, docs);
      });
      const human: Io = json ? { ...io, stdout: io.stderr } : io;
      let known = incident.istio.version;
      try {
        resolveIstio(known);
      } catch {
        known = ISTIO_MINORS[0].minor;
        await write(human.stderr, `podpath: the incident's Istio ${incident.istio.version} is not one podpath installs; attaching to the bed as it is.\n`);
      }
      const { report, runDir } = await runSuite({
        scenarios: [], istio: [known], reuse: true, keep: false, pauseOnFailure: false, repeat: 1, concurrency: 1,
        resultsDir: str(values, 'results') ?? `${io.cwd}/results`, dryRun: false, logEncoding: 'text', signal, name: str(values, 'name'),
        argv: ['repro', positionals[0], ...(json ? ['--json'] : [])],
      }, terminalSink(human, { stdinIsTTY, stderrIsTTY }), { ...deps, scenarios: [incidentScenario(incident)], documents });
      if (report.run.interrupted) return 130;
      const s = report.targets.flatMap((t) => t.scenarios)[0];
      if (s.status === 'skipped' || (s.error?.startsWith('bed ') ?? false)) {
        return await offline(`no cluster reachable (${s.error ?? s.skipReason}); diagnosing offline instead`);
      }
      const reproduced = s.status === 'passed' || s.status === 'observed' || s.status === 'partial';
      const bed = report.targets[0];
      if (json) {
        await write(io.stdout, `${JSON.stringify({ incident: incident.id, mode: 'live', reproduced, istio: { reported: incident.istio.version, bed: bed.istio.version }, runDir, scenario: s }, null, 2)}\n`);
      } else {
        const verdict = reproduced ? paint('red', 'REPRODUCED', io.stdout) : paint('green', 'NOT REPRODUCED', io.stdout);
        await write(io.stdout, [
          `${verdict}: ${incident.title}`,
          `Istio: reported ${incident.istio.version}, bed ${bed.istio.version}${bed.istio.version.startsWith(incident.istio.version) ? '' : ' (different: the path may differ for that reason alone)'}`,
          `istiod env: reported ${describeEnv(incident.istio.pilotEnv)}, bed ${describeEnv(bed.istio.pilotEnv)}`,
          sideBySide(incident, s),
          ...(s.probes[0]?.mismatches.length ? ['differences:', ...s.probes[0].mismatches.map((m) => `  - ${m}`)] : []),
          `results: ${runDir}`,
          '',
        ].join('\n'));
      }
      return reproduced ? 0 : 1;
    },
  };
}

export const reproCommand: Command = makeReproCommand();
