/**
 * Issue 6: "no fixed sleeps anywhere". Waiting for the mesh means watching or polling with
 * backoff and a deadline, never awaiting a timer. This test greps the shipped code in harness/
 * and scripts/ for awaited timers. Allowed: a file named backoff.ts (each concern keeps its
 * backoff in one helper), the exact lines in ALLOWED, and a line marked `podpath:allow-sleep <reason>`. Timers used as
 * timeouts (raced, or cancelling work) are not sleeps and are not flagged.
 */
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Backoff helpers that live outside a backoff.ts, by exact line: a change to the line (e.g. to
 * a constant delay) makes the test look at it again.
 */
const ALLOWED: Array<{ file: string; line: string; why: string }> = [];

const PATTERNS: Array<{ what: string; regex: RegExp }> = [
  // await sleep(1000), await delay(..), await setTimeout(..) from node:timers/promises, await scheduler.wait(..), await $.sleep(..)
  { what: 'awaited timer', regex: /\bawait\s+(?:[\w$]+\.)*(?:sleep|delay|wait|setTimeout)\s*\(/g },
  // await new Promise((resolve) => setTimeout(resolve, ms))
  { what: 'awaited promise around setTimeout', regex: /\bawait\s+new\s+Promise\s*(?:<[^>]*>)?\s*\(\s*\(?\s*([\w$]+)[^)]*\)?\s*=>\s*\{?\s*(?:return\s+)?setTimeout\(\s*\1\b/g },
  // .then(() => sleep(..)) chains and bare zx sleep() statements
  { what: 'sleep() call', regex: /(?:^|[;{}\s(])sleep\s*\(\s*[\d'"`]/gm },
];

interface Finding {
  line: number;
  what: string;
  text: string;
}

function findFixedSleeps(source: string): Finding[] {
  const findings: Finding[] = [];
  const lines = source.split('\n');
  for (const { what, regex } of PATTERNS) {
    regex.lastIndex = 0;
    for (const match of source.matchAll(regex)) {
      const line = source.slice(0, match.index).split('\n').length + (match[0].startsWith('\n') ? 1 : 0);
      const text = lines[line - 1] ?? '';
      if (/podpath:allow-sleep\s+\S/.test(text) || /podpath:allow-sleep\s+\S/.test(lines[line - 2] ?? '')) continue;
      if (/^\s*(\/\/|\*)/.test(text)) continue;
      if (findings.some((f) => f.line === line)) continue;
      findings.push({ line, what, text: text.trim() });
    }
  }
  return findings;
}

async function sourceFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && /\.(ts|mjs|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    // Test support (testing/ folders) is excluded like *.test.ts: it is never shipped.
    .filter((p) => !p.includes('/node_modules/') && !p.includes('/fixtures/') && !p.includes('/testing/'));
}

test('no fixed sleeps in harness/ or scripts/ (backoff helpers excepted)', async (t) => {
  const files = [...(await sourceFiles(join(ROOT, 'harness'))), ...(await sourceFiles(join(ROOT, 'scripts')))];
  t.true(files.length > 10, 'the scan found the sources');
  const problems: string[] = [];
  for (const file of files) {
    if (basename(file) === 'backoff.ts') continue;
    const rel = relative(ROOT, file);
    for (const f of findFixedSleeps(await readFile(file, 'utf8'))) {
      if (ALLOWED.some((a) => a.file === rel && a.line === f.text)) continue;
      problems.push(`${rel}:${f.line}: ${f.what}: ${f.text}`);
    }
  }
  t.deepEqual(problems, [], 'wait for a condition (watch, or poll with the backoff helper and a deadline) instead of sleeping');
});

test('the detector flags each kind of fixed sleep', (t) => {
  const cases = [
    'await sleep(1000);',
    "import { setTimeout } from 'node:timers/promises';\nawait setTimeout(500);",
    'await new Promise((resolve) => setTimeout(resolve, 2000));',
    'await new Promise<void>(r => { setTimeout(r, 100) });',
    'await $.sleep(1);',
    "await scheduler.wait(100);",
    "sleep('2s')",
  ];
  for (const code of cases) t.is(findFixedSleeps(code).length, 1, code);
});

test('the detector leaves timeouts, waits on conditions, and marked lines alone', (t) => {
  const fine = [
    'const timer = setTimeout(() => controller.abort(), timeoutMs);',
    'const grace = new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); });\nawait Promise.race([closed, grace]);',
    'await kube.waitForRollout(namespace, name, { timeoutMs });',
    'await waitForConfig(pod, predicate);',
    '// await sleep(1000) would be wrong here',
    'await sleep(backoff.next()); // podpath:allow-sleep retry spacing inside the backoff loop',
  ];
  for (const code of fine) t.deepEqual(findFixedSleeps(code), [], code);
});
