/**
 * `podpath logs [FILE...|-]`: offline triage of Istio sidecar access logs. Streams: entries are
 * written as they are parsed (chunked writes with backpressure); only the summary counts,
 * a few evidence lines per diagnosis, and (for --follow-from) the two entries on the path are kept.
 */
import { readFile, stat } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import type { Writable } from 'node:stream';
import { inputPaths, type Command, type CommandContext } from '../command.ts';
import { paint, printable, write } from '../output.ts';
import { InterruptedError, UsageError } from '../../errors/index.ts';
import {
  checkReadable, ConnectionFollower, createLineParser, DEFAULT_SUMMARY_ROWS, describeFlag, Diagnoser, entryToJson, FastJsonWriter, hopDetails, hostOf, ioErrorMessage,
  isKnownFlag, jsonString, loadInventory, openInput as openPath, parallelFastJson, readByteLines, readLines, resolveIp, SIGNATURE_IDS, spoolStdin, Summary,
  type AccessLogEntry, type Diagnosis, type FormatMode, type Hops, type Inventory, type SkipReason,
} from '../../accesslog/index.ts';

const FLUSH_AT = 1 << 16;

/** Collects output text and writes it in large pieces, waiting for drain when the stream asks. */
class ChunkedWriter {
  private buffer = '';
  private readonly stream: Writable;
  /** The reader went away (`podpath logs ... | head`): stop quietly, like any Unix filter. */
  closed = false;
  /** Any other write failure (disk full, ...): stop and report it. */
  failure: Error | null = null;

  constructor(stream: Writable) {
    this.stream = stream;
    stream.on('error', this.onError);
  }

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    this.closed = true;
    if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED' && error.code !== 'ERR_STREAM_WRITE_AFTER_END') this.failure = error;
  };

  /** Bytes from the fast path, for buffers the caller will not reuse. */
  async writeBytes(buffers: Uint8Array[]): Promise<void> {
    await this.flush();
    for (const bytes of buffers) if (!this.closed && bytes.length > 0 && !this.stream.write(bytes)) await this.drained();
  }

  /** Writes and waits until the stream has taken the bytes, so the caller may reuse the buffers. */
  async writeBytesFlushed(buffers: Uint8Array[]): Promise<void> {
    await this.flush();
    for (const bytes of buffers) {
      if (bytes.length === 0 || this.closed) continue;
      await new Promise<void>((resolve) => this.stream.write(bytes, (error) => {
        if (error) this.closed = true;
        resolve();
      }));
    }
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        this.stream.off('error', done);
        resolve();
      };
      this.stream.on('drain', done);
      this.stream.on('close', done);
      this.stream.on('error', done);
    });
  }

  push(text: string): void {
    this.buffer += text;
  }

  async maybeFlush(): Promise<void> {
    if (this.buffer.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer;
    this.buffer = '';
    if (this.closed) return;
    if (!this.stream.write(text)) await this.drained();
  }
}

const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}$/;

function stringValue(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

async function loadInventoryFile(path: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`--inventory: ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (error as Error).message}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--inventory: ${path} is not JSON`, { hint: 'Create it with: kubectl get pods,services,endpointslices -A -o json > inventory.json', cause: error });
  }
  return loadInventory(json);
}

function flagsText(flags: string[]): string {
  if (flags.length === 0) return '-';
  return flags.map((f) => (isKnownFlag(f) ? f : `${f}(unknown)`)).join(',');
}

function direction(e: AccessLogEntry): string {
  return e.cluster.direction === 'outbound' ? 'out' : e.cluster.direction === 'inbound' ? 'in' : '-';
}

const HEADER = ['TIME', 'POD', 'DIR', 'CODE', 'FLAGS', 'CLUSTER', 'ORIGINAL DST', 'UPSTREAM HOST'];
const WIDTHS = [24, 26, 3, 4, 10, 52, 21];

function row(cells: string[]): string {
  return cells.map(printable).map((c, i) => (i < WIDTHS.length ? c.padEnd(WIDTHS[i]) : c)).join(' ').trimEnd() + '\n';
}

function humanRow(e: AccessLogEntry, inventory: Inventory | null): string {
  let dst = e.downstreamLocalAddress ?? '-';
  if (inventory) {
    const name = resolveIp(inventory, hostOf(e.downstreamLocalAddress));
    if (name) dst += ` (${name})`;
  }
  // Operators of a custom format that podpath does not map are shown by name at the end of the row.
  const extra = e.extra ? Object.entries(e.extra).map(([k, v]) => `${k}=${v ?? '-'}`).join(' ') : '';
  return row([e.startTime ?? '-', e.pod ?? '-', direction(e), e.responseCode === null ? '-' : String(e.responseCode), flagsText(e.responseFlags), e.upstreamCluster ?? '-', dst, `${e.upstreamHost ?? '-'}${extra ? `  ${extra}` : ''}`]);
}

function summaryHuman(summary: Summary, stream: Writable): string {
  const rows = summary.result();
  if (rows.length === 0) return '';
  const lines = [`\n${paint('bold', `Summary by (cluster, flags): ${summary.total} entries`, stream)}\n`];
  for (const r of rows) {
    const meanings = r.flags.map((f) => `${f}: ${describeFlag(f)}`).join('; ');
    lines.push(`${String(r.count).padStart(8)}  ${r.kind.padEnd(19)} ${printable(r.cluster ?? '-').padEnd(52)} ${printable(flagsText(r.flags))}${meanings ? `  (${printable(meanings)})` : ''}\n`);
  }
  if (summary.other > 0) lines.push(`${String(summary.other).padStart(8)}  other               (pairs after the first ${summary.maxRows} distinct ones; raise --summary-rows to list them)\n`);
  return lines.join('');
}

function diagnosesHuman(diagnoses: Diagnosis[], stream: Writable): string {
  if (diagnoses.length === 0) return `\n${paint('green', 'No known failure signature found.', stream)}\n`;
  const out: string[] = [`\n${paint('bold', 'Diagnoses', stream)}\n`];
  for (const d of diagnoses) {
    const style = d.severity === 'error' ? 'red' : d.severity === 'warning' ? 'yellow' : 'cyan';
    out.push(`\n${paint(style, `[${d.severity.toUpperCase()}]`, stream)} ${paint('bold', d.id, stream)}: ${d.title} (${d.count} ${d.count === 1 ? 'entry' : 'entries'}${d.inferred ? ', inferred' : ''})\n`);
    out.push(`  ${d.meaning}\n  Evidence:\n`);
    for (const e of d.evidence.slice(0, 3)) out.push(`    ${printable(e.source)}:${e.line}${e.joinedLines ? ` (joined from ${e.joinedLines} lines)` : ''}  ${printable(e.raw.trim())}\n`);
    if (d.count > 3) out.push(`    ... ${d.count - 3} more\n`);
    out.push('  Fixes:\n');
    for (const f of d.fixes) out.push(`    - ${f}\n`);
  }
  return out.join('');
}

function diagnosisJson(d: Diagnosis): string {
  return JSON.stringify({
    id: d.id, severity: d.severity, title: d.title, meaning: d.meaning, inferred: d.inferred, count: d.count, fixes: d.fixes,
    evidence: d.evidence.map((e) => ({ source: e.source, line: e.line, pod: e.pod, raw: e.raw })),
  });
}

function hopsHuman(h: Hops): string {
  const hop = (label: string, e: AccessLogEntry): string => {
    const details = hopDetails(e);
    return `  → ${label.padEnd(14)} ${printable(e.pod ?? '(pod unknown)')}  ${printable(e.upstreamCluster ?? '-')}  flags ${printable(flagsText(e.responseFlags))}  upstream ${printable(e.upstreamHost ?? '-')}  [${printable(e.source)}:${e.line}]\n` +
      (details ? `    ${printable(details)}\n` : '');
  };
  let out = `Following ${h.localAddress}\n  app socket ${h.localAddress}\n`;
  if (h.client) out += hop('client sidecar', h.client);
  if (h.server) out += hop('server sidecar', h.server);
  // The app is a hop only when the server sidecar's entry shows the connection got there.
  if (h.server && h.stoppedAt === null) out += '  → server app\n';
  if (h.stoppedAt) out += `  ✗ stopped: ${h.stoppedAt}\n`;
  return out;
}

const PARALLEL_FROM = 8 << 20;

/**
 * Worker threads when nobody asked (PODPATH_LOGS_WORKERS unset): two, but only while about a core
 * is idle beside the main thread (one-minute load average below cores - 0.5; this run's own reading
 * counts about 1 of it). On a machine already busy the workers share the same cores with each other
 * and the main thread, and their start-up and hand-off make the run slower than one thread.
 * loadavg is [0, 0, 0] on Windows.
 */
export function defaultLogsWorkers(cores: number, load1: number): number {
  if (cores < 2 || load1 >= cores - 0.5) return 0;
  return Math.min(2, cores);
}

/** Worker threads for the --json fast path: none for small inputs; PODPATH_LOGS_WORKERS overrides (0 = single thread). */
function workerLimit(env: NodeJS.ProcessEnv): number {
  const forced = env.PODPATH_LOGS_WORKERS;
  return forced !== undefined && /^\d+$/.test(forced) ? Math.min(Number(forced), 8) : defaultLogsWorkers(availableParallelism(), loadavg()[0]);
}

/**
 * How many workers an input deserves, and the stream to read it from. Files are sized by stat;
 * stdin is peeked (its chunks are fresh buffers, safe to hold) until 8 MiB or its end.
 */
async function planWorkers(path: string, opened: { stream: AsyncIterable<Uint8Array | string>; gzip: boolean }, env: NodeJS.ProcessEnv): Promise<{ threads: number; stream: AsyncIterable<Uint8Array | string> }> {
  const limit = workerLimit(env);
  if (limit === 0) return { threads: 0, stream: opened.stream };
  if (path !== '-') return { threads: (await stat(path)).size * (opened.gzip ? 8 : 1) >= PARALLEL_FROM ? limit : 0, stream: opened.stream };
  const iterator = opened.stream[Symbol.asyncIterator]();
  const head: (Uint8Array | string)[] = [];
  let size = 0;
  let ended = false;
  while (size < PARALLEL_FROM) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    size += next.value.length;
  }
  const stream = (async function* () {
    yield* head;
    if (ended) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  })();
  return { threads: ended ? 0 : limit, stream };
}

class OutputClosed extends Error {}

// Nothing parsed is usually the wrong container or access logging off, not a parser problem.
// Access log lines were there, but cut: the paste lost their ends (a terminal, a chat, an editor's line limit).
export const CUT_LINES_HINT =
  'the access log lines found were cut short (no field after the cluster, a cut address, or no route name on 1.9+): paste whole lines, e.g. kubectl logs POD -c istio-proxy > proxy.log, rather than copying from a terminal UI';

export const NO_ENTRIES_HINT =
  'no access log line found: give the istio-proxy container\'s log (kubectl logs POD -c istio-proxy), check that access logging is on (meshConfig.accessLogFile: /dev/stdout), and pass --log-format if the mesh uses a custom format';

const SKIP_LABELS: Record<SkipReason, string> = {
  'not-access-log': 'not access log lines',
  truncated: 'truncated',
  oversized: 'longer than 1 MiB',
  'wrong-format': 'other encoding than --format',
};

export const logsCommand: Command = {
  name: 'logs',
  summary: 'Read Istio sidecar access logs: decode, summarise, follow a connection, diagnose (offline)',
  usage: '[FILE...|-] [--json] [--summary] [--diagnose] [--follow-from IP:PORT] [--inventory FILE] [--fail-on ID,...]',
  details: [
    'Reads istio-proxy access logs as you have them: raw, kubectl logs --timestamps / --prefix, stern, .gz,',
    'several files, or - (stdin, also the default when stdin is not a terminal). Istio TEXT formats of every',
    'era (1.6 to now) and JSON are detected per line; other lines are skipped and counted.',
    '',
    'Examples:',
    '  kubectl logs -n manager deploy/manager -c istio-proxy --prefix | podpath logs',
    '  podpath logs client.log server.log --follow-from 10.244.1.5:43210',
    '  podpath logs proxy.log.gz --diagnose --inventory inventory.json',
    '  podpath logs ci.log --json --fail-on pod-ip-captured-by-service-listener,blackhole',
    '',
    `Signatures: ${SIGNATURE_IDS.join(', ')}.`,
    'Big --json inputs use two worker threads while a core is idle; PODPATH_LOGS_WORKERS=0 keeps to one, =N sets N.',
    'Exit codes: 0 done, 1 a --fail-on signature was found, 2 usage or I/O error. Guide: docs/logs.md',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'NDJSON: one object per entry (or per summary row / diagnosis with --summary / --diagnose)' },
    summary: { type: 'boolean', description: 'print only the counts by (cluster, flags)' },
    'summary-rows': { type: 'string', valueName: 'N', description: `distinct (cluster, flags) rows kept; later pairs count as "other" (default ${DEFAULT_SUMMARY_ROWS})` },
    diagnose: { type: 'boolean', description: 'print only the diagnoses' },
    format: { type: 'string', valueName: 'text|json|auto', description: 'line encoding (default auto: per line)' },
    'log-format': { type: 'string', valueName: 'FORMAT', description: 'a custom Envoy format string or JSON dictionary (meshConfig.accessLogFormat)' },
    'follow-from': { type: 'string', valueName: 'IP:PORT', description: 'follow the connection whose app socket was IP:PORT through both sidecars' },
    inventory: { type: 'string', valueName: 'FILE', description: 'kubectl get pods,services,endpointslices -A -o json: resolve IPs, confirm diagnoses' },
    'fail-on': { type: 'string', valueName: 'ID,...', description: 'exit 1 when one of these signatures is found (for CI)' },
    pod: { type: 'string', valueName: 'NAME', description: 'pod name for entries whose lines carry no pod prefix' },
  },
  allowPositionals: true,

  async run(ctx: CommandContext): Promise<number> {
    const { values, io } = ctx;
    const json = values.json === true;
    const onlySummary = values.summary === true;
    const onlyDiagnose = values.diagnose === true;
    const followFrom = stringValue(values['follow-from']);
    const format = (stringValue(values.format) ?? 'auto') as FormatMode;
    if (!['auto', 'text', 'json'].includes(format)) throw new UsageError(`logs: --format must be text, json or auto, not '${format}'`);
    if (followFrom !== undefined && !ADDRESS.test(followFrom)) {
      throw new UsageError(`logs: --follow-from needs IP:PORT (the client socket, e.g. 10.244.1.5:43210), not '${followFrom}'`);
    }
    const failOn = (stringValue(values['fail-on']) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const unknownIds = failOn.filter((id) => !SIGNATURE_IDS.includes(id));
    if (unknownIds.length) throw new UsageError(`logs: --fail-on: unknown signature ${unknownIds.join(', ')}`, { hint: `Known: ${SIGNATURE_IDS.join(', ')}` });
    const rowsText = stringValue(values['summary-rows']);
    if (rowsText !== undefined && !/^[1-9]\d{0,6}$/.test(rowsText)) throw new UsageError(`logs: --summary-rows must be a number from 1 to 9999999, not '${rowsText}'`);
    const summaryRows = rowsText === undefined ? DEFAULT_SUMMARY_ROWS : Number(rowsText);
    const logFormat = stringValue(values['log-format']) ?? null;
    const parser = createLineParser({ mode: format, logFormat });

    const inventoryPath = stringValue(values.inventory);
    const inventory = inventoryPath === undefined ? null : await loadInventoryFile(inventoryPath);
    const defaultPod = stringValue(values.pod) ?? null;

    const paths = inputPaths(ctx, 'logs', 'Give log files, or pipe them in: kubectl logs POD -c istio-proxy | podpath logs -');
    for (const path of paths) if (path !== '-') await checkReadable(path);

    // Following needs a second pass when the server's line comes first: stdin is spooled to a
    // temp file for that, so memory holds two entries, never every entry that streamed by.
    const spool = followFrom !== undefined && paths.includes('-') ? await spoolStdin(io.stdin) : null;
    const openInput = async (path: string): ReturnType<typeof openPath> =>
      path === '-' && spool !== null ? { ...(await openPath(spool.path, io.stdin)), source: '-' } : openPath(path, io.stdin);
    const out = new ChunkedWriter(io.stdout);
    try {
      // The writer's error listener stays attached: an EPIPE can arrive after the last write returned.
      const code = await streamLogs(out);
      if (out.failure) throw new UsageError(`logs: cannot write the output: ${out.failure.message}`, { cause: out.failure });
      return code;
    } finally {
      await spool?.remove();
    }
    async function streamLogs(out: ChunkedWriter): Promise<number> {
      const stopIfNeeded = (): void => {
        if (ctx.signal.aborted) throw new InterruptedError('logs: interrupted');
        if (out.closed) throw new OutputClosed();
      };
      const listEntries = !onlySummary && !onlyDiagnose && followFrom === undefined;
      const wantSummary = onlySummary || (!json && !onlyDiagnose && followFrom === undefined);
      const wantDiagnoses = onlyDiagnose || failOn.length > 0 || (!json && !onlySummary && followFrom === undefined);
      const summary = wantSummary ? new Summary({ maxRows: summaryRows }) : null;
      const diagnoser = wantDiagnoses ? new Diagnoser({ inventory }) : null;
      const follower = followFrom !== undefined ? new ConnectionFollower(followFrom) : null;
      const skipped: Partial<Record<SkipReason, number>> = {};
      const problems: string[] = [];
      let entries = 0;
      let lines = 0;
      // Worker threads join wrapped lines with their own parsers and report the counts here.
      const workerJoined = { entries: 0, lines: 0 };

      const fast = json && listEntries && !wantSummary && !wantDiagnoses && followFrom === undefined && logFormat === null && format !== 'json';
      if (listEntries && !json) out.push(paint('bold', row(HEADER), io.stdout));
      for (const path of paths) {
        let opened;
        try {
          opened = await openInput(path);
        } catch (error) {
          problems.push(ioErrorMessage(path, error));
          continue;
        }
        if (opened.warning) await write(io.stderr, `podpath: logs: ${opened.warning}\n`);
        const source = opened.source;
        const sourceJson = jsonString(source);
        // Plain --json listing needs no entry objects: bytes in, NDJSON bytes out (on several cores for big files).
        let plan: { threads: number; stream: AsyncIterable<Uint8Array | string> };
        try {
          plan = fast ? await planWorkers(path, opened, io.env) : { threads: 0, stream: opened.stream };
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          problems.push(ioErrorMessage(path, error));
          continue;
        }
        const input = plan.stream;
        const threads = plan.threads;
        if (threads > 0) {
          try {
            const stats = await parallelFastJson(input, {
              source, defaultPod, mode: format, workers: threads,
              write: (buffers) => out.writeBytesFlushed(buffers),
              onEntries: (count) => void (entries += count),
              onSkip: (reason, count) => void (skipped[reason] = (skipped[reason] ?? 0) + count),
              onJoined: (count, joinedLines) => {
                workerJoined.entries += count;
                workerJoined.lines += joinedLines;
              },
              checkAbort: () => {
                stopIfNeeded();
              },
            });
            lines += stats.lines;
          } catch (error) {
            if (error instanceof InterruptedError) throw error;
            if (error instanceof OutputClosed) break;
            problems.push(ioErrorMessage(path, error));
          }
          continue;
        }
        if (fast) {
          const writer = new FastJsonWriter({
            source, defaultPod, parser,
            sink: { onEntry: () => void entries++, onSkip: (reason) => void (skipped[reason] = (skipped[reason] ?? 0) + 1) },
          });
          try {
            const stats = await readByteLines(input, (b, start, end, n) => writer.write(b, start, end, n), {
              afterChunk: async () => {
                stopIfNeeded();
                if (writer.size >= 1 << 16) {
                // Written buffers go back to the writer: no new allocation per chunk, nothing for the GC.
                const buffers = writer.take();
                await out.writeBytesFlushed(buffers);
                for (const b of buffers) if (writer.spare.length < 16 && b.byteOffset === 0) writer.spare.push(Buffer.from(b.buffer as ArrayBuffer));
              }
              },
              onOversized: () => void (skipped.oversized = (skipped.oversized ?? 0) + 1),
            });
            lines += stats.lines;
          } catch (error) {
            if (error instanceof InterruptedError) throw error;
            if (error instanceof OutputClosed) break;
            problems.push(ioErrorMessage(path, error));
          }
          await out.writeBytes(writer.take());
          continue;
        }
        const onLine = (line: string, lineNumber: number): void => {
          if (line.length === 0) return;
          const result = parser.parse(line, lineNumber, source, defaultPod);
          if (typeof result === 'string') {
            skipped[result] = (skipped[result] ?? 0) + 1;
            return;
          }
          entries++;
          if (listEntries) out.push(json ? entryToJson(result, sourceJson) + '\n' : humanRow(result, inventory));
          summary?.add(result);
          diagnoser?.add(result);
          follower?.add(result);
        };
        try {
          const stats = await readLines(opened.stream, onLine, {
            afterChunk: async () => {
              stopIfNeeded();
              await out.maybeFlush();
            },
            onOversized: () => {
              skipped.oversized = (skipped.oversized ?? 0) + 1;
            },
          });
          lines += stats.lines;
        } catch (error) {
          if (error instanceof InterruptedError) throw error;
          if (error instanceof OutputClosed) break;
          problems.push(ioErrorMessage(path, error));
        }
      }
      if (follower?.wantsSecondPass && problems.length === 0) {
        // The server's log came before the client's entry: read the files again for that one line.
        for (const path of paths) {
          const opened = await openInput(path);
          await readLines(opened.stream, (line, lineNumber) => {
            const result = line.length === 0 ? 'not-access-log' : parser.parse(line, lineNumber, opened.source, defaultPod);
            if (typeof result !== 'string') follower.add(result);
          }, { afterChunk: stopIfNeeded });
          if (!follower.wantsSecondPass) break;
        }
      }

      if (out.closed) return 0;
      const diagnoses = diagnoser?.results() ?? [];
      if (followFrom !== undefined) {
        const hops = (follower ?? new ConnectionFollower(followFrom)).result();
        if (json) {
          out.push(`{"localAddress":${jsonString(hops.localAddress)},"client":${hops.client ? entryToJson(hops.client) : 'null'},"server":${hops.server ? entryToJson(hops.server) : 'null'},"stoppedAt":${jsonString(hops.stoppedAt)}}\n`);
        } else out.push(hopsHuman(hops));
      }
      if (summary !== null && (onlySummary || !json)) {
        if (json) {
          for (const r of summary.result()) out.push(JSON.stringify(r) + '\n');
          if (summary.other > 0) out.push(JSON.stringify({ cluster: null, kind: 'other', direction: null, flags: [], count: summary.other, first: null, last: null }) + '\n');
        } else out.push(summaryHuman(summary, io.stdout));
      }
      if (diagnoser !== null && (onlyDiagnose || !json)) {
        if (json) for (const d of diagnoses) out.push(diagnosisJson(d) + '\n');
        else out.push(diagnosesHuman(diagnoses, io.stdout));
      }
      // Fragments of wrapped lines were counted as skipped until the line that completed them came.
      for (const [reason, n] of Object.entries(parser.joined.absorbed) as [SkipReason, number][]) {
        skipped[reason] = (skipped[reason] ?? 0) - n;
        if (skipped[reason] === 0) delete skipped[reason];
      }
      const joined = parser.joined.entries + workerJoined.entries;
      const joinedLines = parser.joined.lines + workerJoined.lines;
      const skippedTotal = Object.values(skipped).reduce((a, b) => a + (b ?? 0), 0);
      const reasons = Object.entries(skipped).map(([k, v]) => `${v} ${SKIP_LABELS[k as SkipReason]}`).join(', ');
      const tally = `${entries} access log ${entries === 1 ? 'entry' : 'entries'} from ${lines} lines in ${paths.length} ${paths.length === 1 ? 'input' : 'inputs'}` +
        (joined ? `; ${joined} ${joined === 1 ? 'entry' : 'entries'} joined from ${joinedLines} wrapped lines` : '') +
        (skippedTotal ? `; ${skippedTotal} skipped (${reasons})` : '') +
        (inventory ? '' : diagnoses.some((d) => d.inferred) ? '; inferred diagnoses: give --inventory to confirm' : '');
      // Human output ends with the tally through the same writer, so a closed pipe is handled in one place.
      if (!json) out.push(`\n${tally}\n`);
      await out.flush();
      if (out.closed) return 0;
      if (json) await write(io.stderr, `podpath: logs: ${tally}\n`);
      if (entries === 0 && lines > 0) await write(io.stderr, `podpath: logs: ${skipped.truncated ? CUT_LINES_HINT : NO_ENTRIES_HINT}\n`);
      for (const p of problems) await write(io.stderr, `podpath: logs: ${p}\n`);
      if (problems.length) return 2;
      const found = diagnoses.filter((d) => failOn.includes(d.id));
      if (found.length) {
        await write(io.stderr, `podpath: logs: failing on ${found.map((d) => `${d.id} (${d.count})`).join(', ')}\n`);
        return 1;
      }
      return 0;
    }
  },
};
