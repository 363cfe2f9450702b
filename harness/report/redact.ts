/**
 * Secret redaction for everything podpath writes under results/ (and therefore into CI
 * artifacts and bundle.tar.gz): evidence files are kubectl/istioctl/Envoy output, which can
 * carry tokens, certificates and Secret data. Pure functions; idempotent.
 */
import { parse as parseYaml, parseAllDocuments, isMap, isScalar, isPair, visit, Scalar, type Document } from 'yaml';

// Plain in YAML (no [ or *), JSON-safe, and unmistakable in a log line.
export const REDACTED = '<redacted>';

/** What was redacted, by kind, for the line podpath prints when it writes a bundle. */
export type RedactionCounts = Map<string, number>;

function count(counts: RedactionCounts | undefined, kind: string, n = 1): void {
  if (counts && n > 0) counts.set(kind, (counts.get(kind) ?? 0) + n);
}

/** "3 bearer tokens, 1 Secret value": most frequent first. */
export function describeRedactions(counts: RedactionCounts): string {
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([kind, n]) => `${n} ${kind}`).join(', ');
}

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
// Any key that ends in one of these words (req_authorization, x-auth-token, set-cookie,
// x-goog-api-key, apikey): custom access-log fields and header maps name them freely.
const SENSITIVE_SUFFIX = '(?:authorization|token|cookie|password|passwd|secret|apikey|api[-_]key)';
const SENSITIVE_KEY_SHAPE = new RegExp(`^(?:[a-z0-9]+[-_.])*${SENSITIVE_SUFFIX}$`, 'i');

function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY_SET.has(key.toLowerCase()) || SENSITIVE_KEY_SHAPE.test(key);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const KEY_ALTERNATION = SENSITIVE_KEYS.map(escapeRegExp).join('|');

// PEM armour lines; bodies between a BEGIN and its END (real newlines or "\n" escapes) are replaced.
const PEM_MARKER = /-----(BEGIN|END) ([A-Z0-9 ]+)-----/g;

/** One pass over the armour lines (a regex pairing BEGIN with END is quadratic on unpaired BEGINs). */
function redactPem(text: string, counts?: RedactionCounts): string {
  let out = '';
  let copied = 0;
  let open: { label: string; bodyStart: number } | null = null;
  for (const m of text.matchAll(PEM_MARKER)) {
    const [marker, kind, label] = m;
    if (kind === 'BEGIN') open = { label, bodyStart: m.index + marker.length };
    else if (open && open.label === label) {
      out += text.slice(copied, open.bodyStart) + REDACTED;
      count(counts, 'PEM blocks');
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
const HEADER = /^([ \t]*(?:(?:proxy-)?authorization|cookie|set-cookie|x-auth-token|x-api-key|x-goog-api-key|api-key|apikey)[ \t]*:[ \t]*)(?!<redacted>)(?=\S).+$/gim;
const BEARER = /\b(Bearer|Basic)[ \t]+(?!<redacted>)[A-Za-z0-9\-._~+/]+=*/g;
// Service-account tokens and other JWTs: header.payload.signature, both base64url JSON.
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g;
// key: value / "key": "value" / key=value, for the sensitive keys, on one line.
const KEY_VALUE = new RegExp(`((?:^|[\\s{,"'])(?:${KEY_ALTERNATION}|(?:[a-z0-9]+[-_.])*${SENSITIVE_SUFFIX})["']?[ \\t]*[:=][ \\t]*)("(?:[^"\\\\\\n]|\\\\.)*"|'[^'\\n]*'|(?:Bearer|Basic)[ \\t]+<redacted>|[^\\s,}\\]]+)`, 'gim');

// Credentials in URLs: https://user:pass@host, and ?token= / &access_token= style parameters.
const URL_USERINFO = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:/@<>"']+:)(?!<redacted>@)[^\s/@<>"']+@/gi;
const URL_PARAM = new RegExp(`([?&;](?:${KEY_ALTERNATION}|(?:[a-z0-9]+[-_.])*${SENSITIVE_SUFFIX}|key|sig|signature|x-amz-signature|x-amz-credential|x-goog-signature)=)(?!<redacted>)[^&#\\s"'<>]+`, 'gi');
// A YAML block scalar (token: | / password: >-) whose lines below hold the value.
const BLOCK_SCALAR_KEY = new RegExp(`^([ \\t]*(?:-[ \\t]+)?["']?(?:${KEY_ALTERNATION}|(?:[a-z0-9]+[-_.])*${SENSITIVE_SUFFIX})["']?[ \\t]*:[ \\t]*[|>][-+0-9]*[ \\t]*)$`, 'i');

function keyValueRedactor(counts?: RedactionCounts): (match: string, prefix: string, value: string) => string {
  return (_match, prefix, value) => {
    if (value.includes(REDACTED)) return prefix + value;
    // An empty value or a YAML block/flow opener is not itself a secret (block scalars are handled by line).
    if (value === '""' || value === "''" || /^[|>][-+0-9]*$/.test(value) || value === '{' || value === '[') return prefix + value;
    count(counts, 'sensitive key values');
    if (value.startsWith('"')) return `${prefix}"${REDACTED}"`;
    if (value.startsWith("'")) return `${prefix}'${REDACTED}'`;
    return prefix + REDACTED;
  };
}

/**
 * Line rules that need the lines around: a sensitive key's block scalar (kubeconfig `token: |`)
 * and the `value:` of each `env` entry under a kubeconfig user's `exec:` (exec plugins get
 * credentials that way). One pass, each line looked at once.
 */
function redactBlocks(text: string, counts?: RedactionCounts): string {
  if (!/[|>]/.test(text) && !/\bexec[ \t]*:/.test(text)) return text;
  const lines = text.split('\n');
  let block: number | null = null;
  let exec: number | null = null;
  let changed = false;
  const indentOf = (line: string): number => line.length - line.trimStart().length;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const blank = line.trim() === '';
    const indent = indentOf(line);
    if (block !== null) {
      if (blank) continue;
      if (indent > block) {
        if (line.trim() !== REDACTED) {
          lines[i] = `${' '.repeat(indent)}${REDACTED}`;
          changed = true;
        }
        continue;
      }
      block = null;
    }
    if (exec !== null && !blank && indent <= exec) exec = null;
    const opener = BLOCK_SCALAR_KEY.exec(line);
    if (opener) {
      block = indentOf(line.replace(/^([ \t]*)-[ \t]+/, '$1  '));
      count(counts, 'sensitive key values');
      continue;
    }
    if (/^[ \t]*(?:-[ \t]+)?exec[ \t]*:[ \t]*$/.test(line)) {
      exec = indent;
      continue;
    }
    if (exec !== null) {
      const value = /^([ \t]*(?:-[ \t]+)?value[ \t]*:[ \t]*)(\S.*)$/.exec(line);
      if (value && value[2] !== REDACTED && value[2] !== `"${REDACTED}"`) {
        lines[i] = `${value[1]}${REDACTED}`;
        changed = true;
        count(counts, 'exec env values');
      }
    }
  }
  return changed ? lines.join('\n') : text;
}

function replaceCounting(text: string, pattern: RegExp, kind: string, counts: RedactionCounts | undefined, replacement: (...groups: string[]) => string): string {
  return text.replace(pattern, (...args: unknown[]) => {
    count(counts, kind);
    return replacement(...(args.filter((a) => typeof a === 'string') as string[]));
  });
}

/** Line-level rules that need no parsing: PEM, base64 PEM, headers, bearer tokens, JWTs, URL credentials, sensitive keys. */
export function redactPatterns(text: string, counts?: RedactionCounts): string {
  let out = redactBlocks(redactPem(text, counts), counts);
  out = replaceCounting(out, BASE64_PEM, 'base64 PEM blocks', counts, () => REDACTED);
  out = replaceCounting(out, HEADER, 'credential headers', counts, (_m, prefix) => `${prefix}${REDACTED}`);
  out = replaceCounting(out, BEARER, 'bearer/basic credentials', counts, (_m, scheme) => `${scheme} ${REDACTED}`);
  out = replaceCounting(out, JWT, 'JWTs', counts, () => REDACTED);
  out = replaceCounting(out, URL_USERINFO, 'URL passwords', counts, (_m, head) => `${head}${REDACTED}@`);
  out = replaceCounting(out, URL_PARAM, 'URL credential parameters', counts, (_m, head) => `${head}${REDACTED}`);
  return out.replace(KEY_VALUE, keyValueRedactor(counts));
}

function redactJsonValue(value: unknown, counts: RedactionCounts | undefined, key = '', inExec = false): unknown {
  if (typeof value === 'string') {
    if (isSensitiveKey(key)) {
      if (value === '' || value === REDACTED) return value;
      count(counts, 'sensitive key values');
      return REDACTED;
    }
    return redactPatterns(value, counts);
  }
  if (Array.isArray(value)) return value.map((item) => redactJsonValue(item, counts, '', inExec));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const isSecret = record.kind === 'Secret';
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
      if (isSecret && (k === 'data' || k === 'stringData') && v && typeof v === 'object' && !Array.isArray(v)) {
        out[k] = Object.fromEntries(Object.entries(v).map(([name, item]) => {
          if (item === '' || item === null || item === REDACTED) return [name, item];
          count(counts, 'Secret values');
          return [name, REDACTED];
        }));
      } else if (isSensitiveKey(k) && v !== null && typeof v !== 'object') {
        if (v === '' || v === REDACTED) out[k] = v;
        else {
          count(counts, 'sensitive key values');
          out[k] = REDACTED;
        }
      } else if (inExec && k === 'env' && Array.isArray(v)) {
        // A kubeconfig exec plugin's env entries carry credentials in `value`.
        out[k] = v.map((entry) => {
          if (!entry || typeof entry !== 'object' || Array.isArray(entry) || !('value' in entry)) return entry;
          const e = entry as Record<string, unknown>;
          if (e.value === '' || e.value === REDACTED) return e;
          count(counts, 'exec env values');
          return { ...e, value: REDACTED };
        });
      } else {
        out[k] = redactJsonValue(v, counts, k, k === 'exec');
      }
    }
    return out;
  }
  return value;
}

/** Redacts a parsed JSON value: Secret data/stringData, sensitive keys, exec env values, and every string's patterns. */
export function redactValue<T>(value: T, counts?: RedactionCounts): T {
  return redactJsonValue(value, counts) as T;
}

function redactYamlSecrets(docs: Document.Parsed[], counts?: RedactionCounts): boolean {
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
            if (isScalar(item.value) && item.value.value === REDACTED) continue;
            item.value = new Scalar(REDACTED);
            count(counts, 'Secret values');
            changed = true;
          }
        }
        return undefined;
      },
    });
  }
  return changed;
}

// kind: Secret anywhere on a line: YAML flow style ({kind: Secret, data: {...}}) or one JSON line inside other text.
const SECRET_KIND_ANYWHERE = /["']?\bkind["']?[ \t]*:[ \t]*["']?Secret\b/;
const MAX_PARSED_DOCUMENT = 1_000_000;

function redactSecretDocument(part: string, counts?: RedactionCounts): string {
  if (!SECRET_KIND_ANYWHERE.test(part)) return part;
  if (part.length > MAX_PARSED_DOCUMENT) return redactSecretBlocksByIndent(part, counts);
  const docs = parseAllDocuments(part);
  const parsed = Array.isArray(docs) ? docs : [];
  if (parsed.length === 0 || parsed.some((d) => d.errors.length > 0)) return redactSecretBlocksByIndent(part, counts);
  return redactYamlSecrets(parsed, counts) ? parsed.map((d) => d.toString({ lineWidth: 0 })).join('') : part;
}

/**
 * A Secret written on one line inside other text (a JSON log line, kubectl output, YAML flow
 * style): the braces around it are parsed as JSON, else as YAML flow, and re-written with its
 * values redacted; if neither parses, every data/stringData mapping on the line is blanked.
 */
function redactInlineSecrets(text: string, counts?: RedactionCounts): string {
  if (!SECRET_KIND_ANYWHERE.test(text)) return text;
  const lines = text.split('\n');
  let changed = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!SECRET_KIND_ANYWHERE.test(line)) continue;
    const start = line.indexOf('{');
    const end = line.lastIndexOf('}');
    if (start < 0 || end <= start) continue;
    const inner = line.slice(start, end + 1);
    let value: unknown;
    try {
      value = JSON.parse(inner);
    } catch {
      try {
        value = parseYaml(inner);
      } catch {
        value = undefined;
      }
    }
    if (value && typeof value === 'object') {
      const local: RedactionCounts = new Map();
      const redacted = JSON.stringify(redactJsonValue(value, local));
      if (local.size > 0) {
        lines[i] = line.slice(0, start) + redacted + line.slice(end + 1);
        for (const [k, n] of local) count(counts, k, n);
        changed = true;
      }
      continue;
    }
    const blanked = line.replace(/(["']?(?:data|stringData)["']?[ \t]*:[ \t]*)\{[^{}]*\}/g, (_m, head: string) => {
      count(counts, 'Secret values');
      return `${head}{${REDACTED}}`;
    });
    if (blanked !== line) {
      lines[i] = blanked;
      changed = true;
    }
  }
  return changed ? lines.join('\n') : text;
}

/** Line fallback when YAML does not parse: blank every more-indented line under data:/stringData:. */
function redactSecretBlocksByIndent(text: string, counts?: RedactionCounts): string {
  const lines = text.split('\n');
  let blockIndent: number | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const indent = line.length - line.trimStart().length;
    if (blockIndent !== null) {
      if (line.trim() === '' || indent > blockIndent) {
        const m = /^(\s*["']?[^:\s]+["']?\s*:\s*)(.*)$/.exec(line);
        if (line.trim() !== '' && !line.includes(REDACTED)) {
          lines[i] = m && m[2] !== '' ? `${m[1]}${REDACTED}` : `${' '.repeat(indent)}${REDACTED}`;
          count(counts, 'Secret values');
        }
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
export function redact(text: string, counts?: RedactionCounts): string {
  const trimmed = text.trimStart();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && /"kind"\s*:\s*"Secret"/.test(text)) {
    try {
      const parsed: unknown = JSON.parse(text);
      return redactPatterns(JSON.stringify(redactJsonValue(parsed, counts), null, 2) + (text.endsWith('\n') ? '\n' : ''), counts);
    } catch {
      // Not one JSON document (e.g. JSON lines): the rules below still apply.
    }
  }
  // Only the documents that mention a Secret are parsed: YAML parsing is slow on big evidence files.
  let out = SECRET_KIND_ANYWHERE.test(text) ? text.split(/^(?=---[ \t]*\r?$)/m).map((part) => redactSecretDocument(part, counts)).join('') : text;
  out = redactInlineSecrets(out, counts);
  return redactPatterns(out, counts);
}
