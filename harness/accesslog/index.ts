/** Public surface of the accesslog concern: parse, decode, correlate, diagnose sidecar access logs. */
export type { AccessLogEntry, ClusterKind, ClusterRef, Diagnosis, Hops, LogFormatId, SkipReason, FieldName } from './types.ts';
export { decodeCluster } from './cluster.ts';
export { parseFlags, describeFlag, isKnownFlag, KNOWN_FLAGS } from './flags.ts';
export { ISTIO_TEXT_FORMATS, ISTIO_JSON_FORMAT, type TextEra } from './formats.ts';
export { compileFormat, renderEntry, matchFormat, parseOperator, type CompiledFormat, type Operator } from './custom-format.ts';
export { createLineParser, parseLogText, type FormatMode, type LineParser, type ParserOptions } from './parse.ts';
export { readLines, readByteLines, openInput, checkReadable, ioErrorMessage, spoolStdin, DEFAULT_MAX_LINE } from './reader.ts';
export { correlate, ConnectionIndex, ConnectionFollower } from './correlate.ts';
export { serverStop, hopDetails } from './hop-end.ts';
export { diagnose, Diagnoser, SIGNATURES, SIGNATURE_IDS, EVIDENCE_LIMIT, type Signature } from './diagnose.ts';
export { loadInventory, isEndpointOf, resolveIp, findService, type Inventory } from './inventory.ts';
export { DEFAULT_SUMMARY_ROWS, Summary, type SummaryRow } from './summary.ts';
export { entryToJson, entryToOutput, jsonString, OUTPUT_KEYS } from './json-output.ts';
export { blankEntry, hostOf } from './entry.ts';
export { FastJsonWriter, type FastSink } from './fast-json.ts';
export { parallelFastJson } from './parallel-json.ts';
