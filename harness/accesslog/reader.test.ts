import test from 'ava';
import fc from 'fast-check';
import { readByteLines, readLines } from './index.ts';

async function* chunks(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = Math.max(1, sizes[i++ % sizes.length]);
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

const lineText = fc.string({ maxLength: 40, unit: fc.oneof(fc.constantFrom('a', ' ', '"', 'é', '→', '😀', '\r'), fc.string({ minLength: 1, maxLength: 1 })) }).map((s) => s.replace(/\n/g, ''));

test('lines split anywhere across chunks (even inside a UTF-8 sequence) come out whole and numbered', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(lineText, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }), fc.boolean(), async (lines, sizes, finalNewline) => {
    const text = lines.join('\n') + (finalNewline && lines.length ? '\n' : '');
    const bytes = Buffer.from(text, 'utf8');
    // A newline ends a line; text after the last newline (if any) is one more line.
    const expected = text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map((l) => l.replace(/\r$/, ''));
    const got: string[] = [];
    await readLines(chunks(bytes, sizes), (line, n) => (got[n - 1] = line));
    t.deepEqual(got, expected);
    const gotBytes: string[] = [];
    await readByteLines(chunks(bytes, sizes), (b, s, e, n) => (gotBytes[n - 1] = b.toString('utf8', s, e)));
    // The byte reader leaves the \r to its consumer (the fast path strips it).
    t.deepEqual(gotBytes.map((l) => l.replace(/\r$/, '')), expected);
    return true;
  }), { numRuns: 200 });
});

test('a line longer than the limit is dropped and counted without being assembled, in both readers', async (t) => {
  const bytes = Buffer.concat([Buffer.from('first\n'), Buffer.alloc(5 << 20, 0x41), Buffer.from('\nlast\n'), Buffer.alloc(3 << 20, 0x42)]);
  for (const read of [readLines, readByteLines] as const) {
    const seen: number[] = [];
    const dropped: number[] = [];
    const started = Date.now();
    const stats = await read(chunks(bytes, [65536]), (...args: unknown[]) => void seen.push(args[args.length - 1] as number), { onOversized: (n) => void dropped.push(n) });
    t.deepEqual(seen, [1, 3]);
    t.deepEqual(dropped, [2, 4]);
    t.deepEqual(stats, { lines: 4, oversized: 2 });
    // Assembling 8 MB a chunk at a time would be quadratic and never finish; the bound only catches that.
    t.true(Date.now() - started < 30_000);
  }
});
