import { PassThrough } from 'node:stream';
import type { Io } from '../cli/output.ts';

/** An Io whose stdout/stderr are collected as strings, for testing commands in-process. */
export function captureIo(options: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const io: Io = { stdout, stderr, stdin, env: options.env ?? { NO_COLOR: '1' }, cwd: options.cwd ?? process.cwd() };
  return {
    io,
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
  };
}
