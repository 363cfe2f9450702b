/** Public surface of harness/runner: the scenario model, the evaluation, and the suite runner. */
export * from './scenario.ts';
export { bedFeatures, defaultFeatures, describeFeatureCondition, describeFeatures, featuresMatch, istiodSettings, FeaturesUnreadable, FEATURE_NAMES, type BedFeatures, type FeatureCondition, type FeatureName, type FeatureSource, type FeatureValues, type IstiodSettings, type OutboundTrafficPolicy } from './bed-features.ts';
export { evaluate, globMatches, toExpectedPath, toObservedPath, responderOf, type Observation, type Evaluation } from './evaluate.ts';
export { runAttempt, consecutive, verdictPredicate, strictPredicate, durationMs, probeTimeoutMs, DEFAULT_PIPELINE, type PipelineOptions, type AttemptResult } from './pipeline.ts';
export { LiveMeshBed, type MeshBed, type PodInfo, type ConfigPredicate } from './mesh-bed.ts';
export { PlanKube } from './plan-kube.ts';
export { recordingSink, type SuiteEvent, type SuiteSink } from './events.ts';
export { runSuite, selectScenarios, groupTargets, combineAttempts, openLiveBed, DEFAULT_CONNECT_TIMEOUT, type RunOptions, type BedSpec, type OpenedBed, type SuiteDeps, type TargetGroup } from './suite.ts';
export { loadIncident, incidentScenario, reportedExpectation, diagnoseOffline, checkIncidentKind, INCIDENT_KINDS, type LoadIncidentOptions, type Incident, type IncidentManifest, type OfflineDiagnosis } from './incident.ts';
