/**
 * Secret redaction for everything podpath writes under results/ (and therefore into CI
 * artifacts and bundle.tar.gz): evidence files are kubectl/istioctl/Envoy output, which can
 * carry tokens, certificates and Secret data. Pure functions; idempotent.
 */
import { parseAllDocuments, isMap, isScalar, isPair, visit, Scalar, type Document } from 'yaml';

// Plain in YAML (no [ or *), JSON-safe, and unmistakable in a log line.
export const REDACTED = '<redacted>';

// Keys whose value is a credential wherever they appear (kubeconfig, headers, JSON configs).
const SENSITIVE_KEYS = [
  'client-key-data',
  'client-certificate-data',
  'token',
  'id-token',
  'refresh-token',
  'access-token',
  'access_token',
  'refresh_token',
  'id_token',
  'client-secret',
  'client_secret',
  'password',
  'private_key',
  'privateKey',
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'cookie',
];
const SENSITIVE_KEY_SET = new Set(SENSITIVE_KEYS.map((k) => k.toLowerCase()));

function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY_SET.has(key.toLowerCase());
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const KEY_ALTERNATION = SENSITIVE_KEYS.map(escapeRegExp).join('|');

// PEM armour lines; bodies between a BEGIN and its END (real newlines or "\n" escapes) are replaced.
const PEM_MARKER = /-----(BEGIN|END) ([A-Z0-9 ]+)-----/g;

/** One pass over the armour lines (a regex pairing BEGIN with END is quadratic on unpaired BEGINs). */
function redactPem(text: string): string {
  let out = '';
  let copied = 0;
  let open: { label: string; bodyStart: number } | null = null;
  for (const m of text.matchAll(PEM_MARKER)) {
    const [marker, kind, label] = m;
    if (kind === 'BEGIN') open = { label, bodyStart: m.index + marker.length };
    else if (open && open.label === label) {
      out += text.slice(copied, open.bodyStart) + REDACTED;
      copied = m.index;
      open = null;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}
// base64 of "-----BEGIN": kubeconfig *-data fields and Envoy inline_bytes hold PEM this way.
const BASE64_PEM = /LS0tLS1CRUdJT[A-Za-z0-9+/=]*/g;
// Line-anchored patterns use [ \t], never \s: \s also matches \n, so from every line start a
// run of whitespace-only lines would be scanned again to its end (quadratic on " \n" * n).
// "Authorization: Bearer x" header lines (HTTP dumps, describe output, logs).
const HEADER = /^([ \t]*(?:proxy-)?authorization[ \t]*:[ \t]*)(?!<redacted>)(?=\S).+$/gim;
const BEARER = /\b(Bearer|Basic)[ \t]+(?!<redacted>)[A-Za-z0-9\-._~+/]+=*/g;
// Service-account tokens and other JWTs: header.payload.signature, both base64url JSON.
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g;
// key: value / "key": "value" / key=value, for the sensitive keys, on one line.
const KEY_VALUE = new RegExp(`((?:^|[\\s{,"'])(?:${KEY_ALTERNATION})["']?[ \\t]*[:=][ \\t]*)("(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|(?:Bearer|Basic)[ \\t]+<redacted>|[^\\s,}\\]]+)`, 'gim');

function redactKeyValue(_match: string, prefix: string, value: string): string {
  if (value.includes(REDACTED)) return prefix + value;
  // An empty value or a YAML block/flow opener is not itself a secret.
  if (value === '""' || value === "''" || value === '|' || value === '>' || value === '|-' || value === '>-' || value === '{' || value === '[') return prefix + value;
  if (value.startsWith('"')) return `${prefix}"${REDACTED}"`;
  if (value.startsWith("'")) return `${prefix}'${REDACTED}'`;
  return prefix + REDACTED;
}

/** Line-level rules that need no parsing: PEM, base64 PEM, headers, bearer tokens, JWTs, sensitive keys. */
export function redactPatterns(text: string): string {
  return redactPem(text)
    .replace(BASE64_PEM, REDACTED)
    .replace(HEADER, (_m, prefix: string) => `${prefix}${REDACTED}`)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(KEY_VALUE, redactKeyValue);
}

function redactJsonValue(value: unknown, parentIsSecret = false, key = ''): unknown {
  if (typeof value === 'string') {
    if (parentIsSecret || isSensitiveKey(key)) return value === '' ? value : REDACTED;
    return redactPatterns(value);
  }
  if (Array.isArray(value)) return value.map((item) => redactJsonValue(item));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const isSecret = record.kind === 'Secret';
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
      if (isSecret && (k === 'data' || k === 'stringData') && v && typeof v === 'object' && !Array.isArray(v)) {
        out[k] = Object.fromEntries(Object.keys(v).map((name) => [name, REDACTED]));
      } else if (isSensitiveKey(k) && v !== null && typeof v !== 'object') {
        out[k] = v === '' ? v : REDACTED;
      } else {
        out[k] = redactJsonValue(v, false, k);
      }
    }
    return out;
  }
  return value;
}

/** Redacts a parsed JSON value: Secret data/stringData, sensitive keys, and every string's patterns. */
export function redactValue<T>(value: T): T {
  return redactJsonValue(value) as T;
}

function redactYamlSecrets(docs: Document.Parsed[]): boolean {
  let changed = false;
  for (const doc of docs) {
    visit(doc, {
      Map(_key, node) {
        const kind = node.get('kind');
        if (kind !== 'Secret') return undefined;
        for (const field of ['data', 'stringData']) {
          const data = node.get(field, true);
          if (!isMap(data)) continue;
          for (const item of data.items) {
            if (!isPair(item)) continue;
            if (isScalar(item.value) && (item.value.value === '' || item.value.value === null)) continue;
            item.value = new Scalar(REDACTED);
            changed = true;
          }
        }
        return undefined;
      },
    });
  }
  return changed;
}

const SECRET_KIND_LINE = /^[ \t]*(?:-[ \t]+)?["']?kind["']?[ \t]*:[ \t]*["']?Secret["']?[ \t]*,?[ \t]*\r?$/m;
const MAX_PARSED_DOCUMENT = 1_000_000;

function redactSecretDocument(part: string): string {
  if (!SECRET_KIND_LINE.test(part)) return part;
  if (part.length > MAX_PARSED_DOCUMENT) return redactSecretBlocksByIndent(part);
  const docs = parseAllDocuments(part);
  const parsed = Array.isArray(docs) ? docs : [];
  if (parsed.length === 0 || parsed.some((d) => d.errors.length > 0)) return redactSecretBlocksByIndent(part);
  return redactYamlSecrets(parsed) ? parsed.map((d) => d.toString({ lineWidth: 0 })).join('') : part;
}

/** Line fallback when YAML does not parse: blank every more-indented line under data:/stringData:. */
function redactSecretBlocksByIndent(text: string): string {
  const lines = text.split('\n');
  let blockIndent: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const indent = line.length - line.trimStart().length;
    if (blockIndent !== null) {
      if (line.trim() === '' || indent > blockIndent) {
        const m = /^(\s*["']?[^:\s]+["']?\s*:\s*)(.*)$/.exec(line);
        if (line.trim() !== '') lines[i] = m && m[2] !== '' ? `${m[1]}${REDACTED}` : `${' '.repeat(indent)}${REDACTED}`;
        continue;
      }
      blockIndent = null;
    }
    const open = /^(\s*(?:-\s+)?)(?:data|stringData)\s*:\s*$/.exec(line);
    if (open) blockIndent = open[1].length;
  }
  return lines.join('\n');
}

/**
 * Returns `text` with secrets replaced by <redacted>: bearer/basic tokens, Authorization
 * headers, JWTs, PEM certificates and keys (also base64-encoded and "\n"-escaped), kubeconfig
 * client-key-data/token and similar keys, and Kubernetes Secret data/stringData values in JSON
 * or YAML. Text without secrets comes back byte for byte.
 */
export function redact(text: string): string {
  const trimmed = text.trimStart();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && /"kind"\s*:\s*"Secret"/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      return redactPatterns(JSON.stringify(redactJsonValue(parsed), null, 2) + (text.endsWith('\n') ? '\n' : ''));
    } catch {
      // Not one JSON document (e.g. JSON lines): the pattern rules below still apply.
    }
  }
  // Only the documents that declare a Secret are parsed: YAML parsing is slow on big evidence files.
  const out = SECRET_KIND_LINE.test(text) ? text.split(/^(?=---[ \t]*\r?$)/m).map(redactSecretDocument).join('') : text;
  return redactPatterns(out);
}
