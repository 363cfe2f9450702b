/**
 * Envoy format strings (what users put in meshConfig.accessLogFormat) compiled into a parser:
 * literal text between command operators is the delimiter, so a line is read by one left-to-right
 * pass of indexOf calls (no regex). Unknown operators are kept as named raw fields (`extra`).
 */
import { UsageError } from '../errors/index.ts';
import { decodeCluster } from './cluster.ts';
import { blankEntry, nullable, toInt } from './entry.ts';
import { parseFlags } from './flags.ts';
import type { AccessLogEntry, FieldName, LogFormatId } from './types.ts';

export interface Operator {
  /** As written between the `%`s, e.g. `REQ(:METHOD)`, `START_TIME(%s)`, `UPSTREAM_CLUSTER_RAW`. */
  text: string;
  name: string;
  argument: string | null;
  /** The entry field it fills, or null for one podpath keeps in `extra` under `text`. */
  field: FieldName | null;
}

export interface CompiledFormat {
  format: string;
  /** literals[i] precedes operators[i]; literals has one more element than operators. */
  literals: string[];
  operators: Operator[];
}

const HEADER_FIELDS: Record<string, FieldName> = {
  ':METHOD': 'method',
  'X-ENVOY-ORIGINAL-PATH?:PATH': 'path',
  ':PATH': 'path',
  'X-ENVOY-ORIGINAL-PATH': 'path',
  'X-FORWARDED-FOR': 'xForwardedFor',
  'USER-AGENT': 'userAgent',
  'X-REQUEST-ID': 'requestId',
  ':AUTHORITY': 'authority',
  'X-ENVOY-ORIGINAL-HOST?:AUTHORITY': 'authority',
  HOST: 'authority',
};

const PLAIN_FIELDS: Record<string, FieldName> = {
  START_TIME: 'startTime',
  PROTOCOL: 'protocol',
  RESPONSE_CODE: 'responseCode',
  RESPONSE_FLAGS: 'responseFlags',
  RESPONSE_FLAGS_LONG: 'responseFlags',
  RESPONSE_CODE_DETAILS: 'responseCodeDetails',
  CONNECTION_TERMINATION_DETAILS: 'connectionTerminationDetails',
  UPSTREAM_TRANSPORT_FAILURE_REASON: 'upstreamTransportFailureReason',
  BYTES_RECEIVED: 'bytesReceived',
  BYTES_SENT: 'bytesSent',
  DURATION: 'durationMs',
  UPSTREAM_HOST: 'upstreamHost',
  UPSTREAM_CLUSTER: 'upstreamCluster',
  UPSTREAM_CLUSTER_RAW: 'upstreamCluster',
  UPSTREAM_LOCAL_ADDRESS: 'upstreamLocalAddress',
  DOWNSTREAM_LOCAL_ADDRESS: 'downstreamLocalAddress',
  DOWNSTREAM_REMOTE_ADDRESS: 'downstreamRemoteAddress',
  REQUESTED_SERVER_NAME: 'requestedServerName',
  ROUTE_NAME: 'routeName',
};

function fieldOf(name: string, argument: string | null): FieldName | null {
  if (argument !== null && (name === 'REQ' || name === 'REQ_WITHOUT_QUERY')) return HEADER_FIELDS[argument.toUpperCase()] ?? null;
  if (argument !== null && name === 'RESP') return argument.toUpperCase() === 'X-ENVOY-UPSTREAM-SERVICE-TIME' ? 'upstreamServiceTimeMs' : null;
  if (name === 'START_TIME') return 'startTime';
  return argument === null ? (PLAIN_FIELDS[name] ?? null) : null;
}

const OPERATOR = /%([A-Z][A-Z0-9_]*)(?:\(([^)]*)\))?(?::(\d+))?%/y;

/** Parses one operator text such as `%REQ(:METHOD)%` (used for JSON dictionaries too). */
export function parseOperator(text: string): Operator | null {
  OPERATOR.lastIndex = 0;
  const m = OPERATOR.exec(text);
  if (!m || m[0].length !== text.length) return null;
  const argument = m[2] ?? null;
  return { text: text.slice(1, -1), name: m[1], argument, field: fieldOf(m[1], argument) };
}

/** Compiles an Envoy format string; throws UsageError for one podpath cannot read back. */
export function compileFormat(format: string): CompiledFormat {
  let text = format;
  // Istio appends a newline; users paste the docs' literal `\n` too.
  if (text.endsWith('\\n')) text = text.slice(0, -2);
  while (text.endsWith('\n') || text.endsWith('\r')) text = text.slice(0, -1);
  const literals: string[] = [];
  const operators: Operator[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '%') {
      OPERATOR.lastIndex = i;
      const m = OPERATOR.exec(text);
      if (m) {
        const argument = m[2] ?? null;
        literals.push(literal);
        literal = '';
        operators.push({ text: m[0].slice(1, -1), name: m[1], argument, field: fieldOf(m[1], argument) });
        i += m[0].length;
        continue;
      }
    }
    literal += c;
    i += 1;
  }
  literals.push(literal);
  if (operators.length === 0) {
    throw new UsageError('--log-format: no command operators found', { hint: 'Give the Envoy format string from meshConfig.accessLogFormat, e.g. \'[%START_TIME%] %RESPONSE_FLAGS% %UPSTREAM_CLUSTER%\'.' });
  }
  for (let k = 1; k < operators.length; k++) {
    if (literals[k] === '') {
      throw new UsageError(`--log-format: %${operators[k - 1].text}% and %${operators[k].text}% have no text between them, so a line cannot be split back into fields`, {
        hint: 'Envoy does not escape values: podpath needs at least one literal character (e.g. a space) between operators.',
      });
    }
  }
  return { format, literals, operators };
}

/** The raw operator values of a line (from `start`), or null when the line does not have the format's shape. */
export function matchFormat(compiled: CompiledFormat, line: string, start = 0): string[] | null {
  const { literals, operators } = compiled;
  if (!line.startsWith(literals[0], start)) return null;
  let pos = start + literals[0].length;
  const values = new Array<string>(operators.length);
  const last = operators.length - 1;
  for (let i = 0; i <= last; i++) {
    const next = literals[i + 1];
    let end: number;
    if (i === last) {
      if (next === '') end = line.length;
      else {
        end = line.lastIndexOf(next);
        if (end < pos) return null;
      }
    } else {
      end = line.indexOf(next, pos);
      if (end < 0) return null;
    }
    values[i] = line.slice(pos, end);
    pos = end + next.length;
  }
  return values;
}

/** Sets the entry fields from operator values; `-` and empty are unset. */
export function applyValues(entry: AccessLogEntry, operators: Operator[], values: string[]): void {
  for (let i = 0; i < operators.length; i++) {
    const op = operators[i];
    const value = nullable(values[i]);
    const field = op.field;
    if (field === null) {
      (entry.extra ??= {})[op.text] = value;
    } else if (field === 'responseFlags') {
      entry.responseFlags = parseFlags(value);
    } else if (field === 'responseCode' || field === 'bytesReceived' || field === 'bytesSent' || field === 'durationMs' || field === 'upstreamServiceTimeMs') {
      entry[field] = toInt(value);
    } else {
      entry[field] = value;
    }
  }
  if (entry.upstreamCluster !== null && entry.upstreamCluster.endsWith(';')) entry.upstreamCluster = entry.upstreamCluster.slice(0, -1) || null;
  entry.cluster = decodeCluster(entry.upstreamCluster);
}

export function parseWithFormat(
  compiled: CompiledFormat, line: string, start: number,
  where: { source: string; line: number; pod: string | null; raw: string; format?: LogFormatId },
): AccessLogEntry | null {
  const values = matchFormat(compiled, line, start);
  if (values === null) return null;
  const entry = blankEntry(where.source, where.line, where.pod, where.format ?? 'custom', where.raw, decodeCluster(null));
  applyValues(entry, compiled.operators, values);
  return entry;
}

/** What Envoy would print for one field of an entry (`-` when unset). */
export function renderValue(entry: AccessLogEntry, op: Operator): string {
  if (op.field === null) return entry.extra?.[op.text] ?? '-';
  if (op.field === 'responseFlags') return entry.responseFlags.length ? entry.responseFlags.join(',') : '-';
  const value = entry[op.field];
  return value === null ? '-' : String(value);
}

/** Formats an entry with a compiled format, as Envoy would (used by fixtures, tests and test doubles). */
export function renderEntry(compiled: CompiledFormat, entry: AccessLogEntry): string {
  let out = compiled.literals[0];
  for (let i = 0; i < compiled.operators.length; i++) out += renderValue(entry, compiled.operators[i]) + compiled.literals[i + 1];
  return out;
}
