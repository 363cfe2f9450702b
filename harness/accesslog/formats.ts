/**
 * Istio's default sidecar access log formats per era, as documented (Istio
 * pilot/pkg/model/telemetry_logging.go EnvoyTextLogFormat for >=1.9, the 1.6-1.7 listener dumps
 * with istio.mixer:status, the 1.8 one before istio/istio#27903 added RESPONSE_CODE_DETAILS in 1.9,
 * UPSTREAM_CLUSTER_RAW from 1.23.0 where earlier releases log UPSTREAM_CLUSTER) and the JSON keys of
 * EnvoyJSONLogFormatIstio. Fixtures and property tests are rendered from these strings.
 */
export type TextEra = 'text-1.6' | 'text-1.8' | 'text-1.9' | 'text-1.23';

const HEAD = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ';
const MIDDLE =
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" ';
const TAIL = ' %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

export const ISTIO_TEXT_FORMATS: Readonly<Record<TextEra, string>> = Object.freeze({
  'text-1.6': `${HEAD}"%DYNAMIC_METADATA(istio.mixer:status)%" "%UPSTREAM_TRANSPORT_FAILURE_REASON%" ${MIDDLE}%UPSTREAM_CLUSTER%${TAIL}`,
  'text-1.8': `${HEAD}"%UPSTREAM_TRANSPORT_FAILURE_REASON%" ${MIDDLE}%UPSTREAM_CLUSTER%${TAIL}`,
  'text-1.9': `${HEAD}%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" ${MIDDLE}%UPSTREAM_CLUSTER%${TAIL}`,
  'text-1.23': `${HEAD}%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" ${MIDDLE}%UPSTREAM_CLUSTER_RAW%${TAIL}`,
});

/** JSON key → Envoy operator, as Istio's EnvoyJSONLogFormatIstio (accessLogEncoding: JSON). */
export const ISTIO_JSON_FORMAT: Readonly<Record<string, string>> = Object.freeze({
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  upstream_service_time: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  user_agent: '%REQ(USER-AGENT)%',
  request_id: '%REQ(X-REQUEST-ID)%',
  authority: '%REQ(:AUTHORITY)%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER_RAW%',
  upstream_local_address: '%UPSTREAM_LOCAL_ADDRESS%',
  downstream_local_address: '%DOWNSTREAM_LOCAL_ADDRESS%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  requested_server_name: '%REQUESTED_SERVER_NAME%',
  route_name: '%ROUTE_NAME%',
});
