import { styleText } from 'node:util';
import type { Writable } from 'node:stream';

type Style = Parameters<typeof styleText>[0];

/**
 * Colour only where a person reads it: styleText already honours NO_COLOR, FORCE_COLOR and
 * whether the stream is a TTY, so every command goes through here instead of raw escapes.
 */
export function paint(style: Style, text: string, stream: Writable = process.stdout): string {
  return styleText(style, text, { stream, validateStream: true });
}

export interface Io {
  stdout: Writable;
  stderr: Writable;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * For renderers that take a colour switch instead of calling paint(): the same rule, read from
 * the command's own env and stdout. NO_COLOR wins, FORCE_COLOR forces, otherwise only on a terminal.
 */
export function wantsColor(io: Io): boolean {
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return (io.stdout as Writable & { isTTY?: boolean }).isTTY === true;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

// C0 controls but tab, DEL, C1 controls and bidi overrides: a terminal acts on them (escape
// sequences, title changes, reordered text), so text from logs never reaches it raw.
const UNPRINTABLE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text from input (a log line, a user agent, a path) made safe to print: controls shown as \xNN / \u{NNNN}. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** Write and wait for the stream to drain, so large outputs are not cut at exit. */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
