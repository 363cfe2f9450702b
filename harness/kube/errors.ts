/** KubeError: what the API server (or the network to it) said, and what to do about it. */
import { PodpathError } from '../errors/index.ts';

export interface KubeErrorOptions {
  statusCode?: number | null;
  reason?: string | null;
  hint?: string;
  cause?: unknown;
}

export class KubeError extends PodpathError {
  /** HTTP status from the API server; null when no response arrived (refused, DNS, TLS). */
  readonly statusCode: number | null;
  /** Kubernetes Status `reason` (NotFound, Conflict, Forbidden, ...) or a network error code. */
  readonly reason: string | null;

  constructor(shortMessage: string, options: KubeErrorOptions = {}) {
    super(shortMessage, { hint: options.hint, cause: options.cause });
    this.statusCode = options.statusCode ?? null;
    this.reason = options.reason ?? null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A Kubernetes Status object from a response body (string or parsed), if there is one. */
export function statusOf(body: unknown): { reason: string | null; message: string | null } {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { reason: null, message: body.trim() || null };
    }
  }
  if (!isRecord(value)) return { reason: null, message: null };
  return {
    reason: typeof value.reason === 'string' ? value.reason : null,
    message: typeof value.message === 'string' ? value.message : null,
  };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** The network error code buried in an undici/fetch/ws error chain, if any. */
export function networkCode(error: unknown): string | null {
  for (let e: unknown = error, depth = 0; isRecord(e) && depth < 6; e = e.cause, depth++) {
    const code = e.code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    if (Array.isArray(e.errors)) for (const inner of e.errors) {
      const c = networkCode(inner);
      if (c) return c;
    }
  }
  return null;
}

/** An abort or timeout (DOMException, or anything named like one): its legacy numeric `.code` (20, 23) is no HTTP status. */
export function isAbortLike(error: unknown): boolean {
  return isRecord(error) && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function httpStatus(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599 ? value : null;
}

/**
 * The HTTP status an error carries, or null when no response arrived. client-node's ApiException
 * says `code`, its Watch says `statusCode`; a DOMException also has a numeric `code` (TimeoutError
 * is 23), so only 100-599 counts, and never on an abort or timeout.
 */
export function httpStatusOf(error: unknown): number | null {
  if (!isRecord(error) || isAbortLike(error) || (typeof DOMException !== 'undefined' && error instanceof DOMException)) return null;
  return httpStatus(error.statusCode) ?? httpStatus(error.code);
}

function hintFor(status: number | null, reason: string | null, what: string): string {
  if (status === null) return 'Is the cluster up? Check `kubectl cluster-info` for the context podpath uses, or run `podpath status`.';
  if (status === 401) return 'The credentials in the kubeconfig were refused: refresh them (for a podpath bed, `podpath status --name NAME` rewrites its own kubeconfig from the cluster).';
  if (status === 403) return `RBAC forbids ${what}: use a context whose user may do it (kind's admin context can), or grant the verb in a Role.`;
  if (status === 404) return `Not found: ${what}. Check the namespace and name; for a custom resource, is its CRD installed (is Istio installed)?`;
  if (status === 409) return reason === 'AlreadyExists' ? 'It already exists; podpath applies with server-side apply, so retry.' : 'Someone else changed it at the same time: retry the command.';
  if (status === 422) return 'The API server rejected the object as invalid: check the manifest (podpath lint FILE).';
  if (status === 410) return 'The watch fell too far behind; podpath re-lists and retries on its own, so seeing this is a bug.';
  if (status >= 500) return 'The API server (or the pod behind the proxy) failed: check `podpath status` and the pod events, then retry.';
  return `Check ${what} by hand with kubectl.`;
}

/** Turn whatever client-node or fetch threw into a KubeError that says what to do. */
export function toKubeError(error: unknown, what: string): KubeError {
  if (error instanceof KubeError) return error;
  const net = networkCode(error);
  if (net) return new KubeError(`cannot reach the Kubernetes API server to ${what} (${net})`, { statusCode: null, reason: net, hint: hintFor(null, net, what), cause: error });
  const statusCode = httpStatusOf(error);
  const body = isRecord(error) ? error.body : undefined;
  if (statusCode === null) {
    const message = isRecord(error) && typeof error.message === 'string' ? error.message : String(error);
    // The websocket library (exec) reports a refused upgrade only in its message.
    const upgrade = /Unexpected server response: (\d{3})/.exec(message);
    if (upgrade) {
      const code = Number(upgrade[1]);
      return new KubeError(`${what} failed with HTTP ${code}`, { statusCode: code, hint: hintFor(code, null, what), cause: error });
    }
    return new KubeError(`${what} failed: ${message}`, { hint: hintFor(null, null, what), cause: error });
  }
  const status = statusOf(body);
  const detail = status.message ? `: ${status.message}` : '';
  return new KubeError(`${what} failed with HTTP ${statusCode}${status.reason ? ` ${status.reason}` : ''}${detail}`, {
    statusCode,
    reason: status.reason,
    hint: hintFor(statusCode, status.reason, what),
    cause: error,
  });
}
