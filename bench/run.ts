/**
 * `npm run bench`: runs every bench/*.bench.ts in its own Node process, one after another
 * (so they do not compete for the two cores), then prints all ratios in one table.
 * `npm run bench -- NAME` runs only the benchmarks whose file name contains NAME.
 */
import { readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();

interface Row { file: string; name: string; ratio: number; target: { max?: number; min?: number }; met: boolean }
const rows: Row[] = [];
let crashed = 0;

for (const file of files) {
  console.log(`\n== ${file}`);
  const child = spawn(process.execPath, [join(here, file)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('BENCH_JSON ')) rows.push({ file, ...JSON.parse(line.slice(11)) });
      else console.log(line);
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) {
    crashed += 1;
    console.log(`!! ${file} exited with ${code}`);
  }
}

console.log('\n== ratios');
for (const row of rows) {
  const target = [row.target.min !== undefined ? `>=${row.target.min}x` : '', row.target.max !== undefined ? `<=${row.target.max}x` : ''].filter(Boolean).join(' ');
  console.log(`${row.met ? 'MET   ' : 'MISSED'} ${row.ratio.toFixed(2).padStart(7)}x  (target ${target})  ${row.name}`);
}
// A missed target is information for the note, not a crash; a benchmark that crashed is an error.
process.exitCode = crashed ? 1 : 0;
