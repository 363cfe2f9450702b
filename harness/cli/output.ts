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

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Write and wait for the stream to drain, so large outputs are not cut at exit. */
export function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(text, (error) => (error ? reject(error) : resolve()));
  });
}
