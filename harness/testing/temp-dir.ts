/**
 * Temp dirs for tests: each is removed when its test file ends, passed or failed, so a run leaves
 * nothing behind in the temp dir (scripts/stress.ts checks that).
 */
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const created = new Set<string>();

// Registered once per test file (ava loads each file in its own process), while the file loads.
test.after.always('remove the temp dirs the tests made', async () => {
  await Promise.all([...created].map((dir) => rm(dir, { recursive: true, force: true })));
  created.clear();
});

/** A fresh directory `<tmpdir>/<prefix>XXXXXX`, removed after the file's last test. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}
