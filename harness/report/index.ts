/** harness/report: report.json (schema v1), JUnit, summary.md, report.html, matrix, terminal table, bundle, diff. */
export * from './schema.ts';
export { newRunId, isRunId, RUN_ID_PATTERN } from './run-id.ts';
export { redact, redactValue, redactPatterns, describeRedactions, REDACTED, type RedactionCounts } from './redact.ts';
export { renderJunit, escapeXmlAttribute, escapeXmlText, xmlSafe } from './junit.ts';
export { renderSummaryMarkdown, renderComparisonMarkdown, pathFlowchart, mermaidLabel } from './markdown.ts';
export { renderTerminalTable, type TableOptions } from './table.ts';
export { diffReports, renderDiff, hasRegressions, pairTargets, type ReportDiff, type DiffEntry, type DiffKind, type ProbeSnapshot } from './diff.ts';
export { writeRunResults, evidencePath, RunResultsExistError, RESULT_FILES, type WriteOptions } from './write.ts';
export { readReport, validateReport, type LoadedReport } from './load.ts';
export { CANONICAL_PATHS, observedPathName, expectedPathName, observedPathNames, describePaths, type PathName } from './paths.ts';
export { formatObserved, formatExpected, formatSide, formatFlags, formatTotals, countStatuses } from './format.ts';
export { buildReportModel, anchorId, scenarioAnchor, probeAnchor, targetAnchor, type ReportModel, type Hop, type HopRole } from './model.ts';
export { renderHtmlReport } from './html.ts';
export { renderHtmlMatrix, renderHtmlDiff, renderHtmlComparison, type MatrixRun, type DiffLinks } from './html-matrix.ts';
export { buildComparisonModel, buildMatrixModel, type ComparisonModel, type ComparisonEntry, type MatrixModel } from './comparison.ts';
export { escapeHtml } from './html-escape.ts';
