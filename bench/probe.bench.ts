/**
 * Probe overhead: N sequential TCP probes through an agent's control API (POST /probe, count 1,
 * agent A → agent B) against N bare node:net connect + WHO round trips to the same agent B, in
 * the same run, on loopback (127.0.19.x). Target: ratio <= 1.5. N = 2000 × BENCH_SCALE.
 * Both agents are child processes, as they are separate pods in a cluster.
 */
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { AGENT_PATH } from '../harness/manifests/index.ts';
import { printRatio, timed } from './lib.ts';

const scale = Number(process.env.BENCH_SCALE ?? '1');
const N = Math.max(20, Math.round(2000 * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
const WARMUP = Math.min(200, Math.round(N / 10));
const A = '127.0.19.1';
const B = '127.0.19.2';
// The repo's agent file, which finds ../probe/contract.ts beside it as it does in the pod's ConfigMap layout.
const agentPath = AGENT_PATH;

async function startChild(bind: string, args: string[]): Promise<ChildProcess> {
  // stdout to /dev/null, as a pod's goes to a log file: reading 2000 log lines here would bill
  // the agent's logging to the benchmark process instead.
  // Both agents live on loopback, which a pod's agent refuses as a probe target: the test flag lifts that.
  const child = spawn(process.execPath, [agentPath, '--bind', bind, '--allow-local-targets', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  let exited = false;
  child.once('exit', () => { exited = true; });
  for (let i = 0; i < 200 && !exited; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      http.get({ host: bind, port: 15999, path: '/healthz', agent: false }, (res) => { res.resume(); resolve(res.statusCode === 200); }).on('error', () => resolve(false));
    });
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`agent on ${bind} did not become healthy`);
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify({ target: `${B}:5701`, protocol: 'tcp', timeoutMs: 2000 });

function probeViaControl(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: A, port: 15999, method: 'POST', path: '/probe', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const [result] = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{ outcome: string; error?: string }>;
          if (res.statusCode !== 200 || result.outcome !== 'echoed') reject(new Error(`probe failed: ${res.statusCode} ${result.outcome} ${result.error ?? ''}`));
          else resolve();
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A minimal keep-alive HTTP/1.1 client on one socket: the same POST /probe, without node:http's
 * client-side cost, so the second ratio shows what the agent itself adds.
 */
function leanClient(): { call: () => Promise<void>; close: () => void } {
  const socket = net.connect({ host: A, port: 15999, noDelay: true });
  const request = `POST /probe HTTP/1.1\r\nhost: ${A}:15999\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  let buffered = '';
  let waiting: { resolve: () => void; reject: (e: Error) => void } | null = null;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    const headerEnd = buffered.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, headerEnd))?.[1] ?? NaN);
    if (buffered.length < headerEnd + 4 + length) return;
    const text = buffered.slice(headerEnd + 4, headerEnd + 4 + length);
    buffered = buffered.slice(headerEnd + 4 + length);
    const [result] = JSON.parse(text) as Array<{ outcome: string }>;
    const w = waiting;
    waiting = null;
    if (result.outcome === 'echoed') w?.resolve();
    else w?.reject(new Error(`probe failed: ${text}`));
  });
  socket.on('error', (err) => waiting?.reject(err));
  return {
    call: () => new Promise<void>((resolve, reject) => {
      waiting = { resolve, reject };
      socket.write(request);
    }),
    close: () => socket.destroy(),
  };
}

function bareWho(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: B, port: 5701, noDelay: true }, () => socket.write('WHO\n'));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.includes('\n')) {
        JSON.parse(reply);
        socket.end();
        resolve();
      }
    });
    socket.on('error', reject);
  });
}

async function loop(n: number, fn: () => Promise<void>): Promise<number> {
  const { ms } = await timed(async () => {
    for (let i = 0; i < n; i++) await fn();
  });
  return ms;
}

const children: ChildProcess[] = [];
// An exception thrown in a response callback ends the process without running `finally`: the agents must not outlive it.
process.on('exit', () => { for (const child of children) child.kill('SIGKILL'); });
try {
  // A pod binds 0.0.0.0 and lets connect() pick the source; binding 0.0.0.0 here is off limits,
  // so A gets the same behaviour with --probe-source kernel (explicit per-probe bind() costs
  // milliseconds once thousands of TIME_WAIT sockets sit on the address: see docs/agent.md).
  children.push(await startChild(A, ['--control-port', '15999', '--probe-source', 'kernel']));
  children.push(await startChild(B, ['--tcp-port', '5701', '--control-port', '15999']));
  const lean = leanClient();
  await loop(WARMUP, bareWho);
  await loop(WARMUP, probeViaControl);
  await loop(WARMUP, lean.call);
  // Alternate halves so drift on a shared machine hits every side alike.
  const half = Math.floor(N / 2);
  let bare = await loop(half, bareWho);
  let probes = await loop(half, probeViaControl);
  let leanProbes = await loop(half, lean.call);
  leanProbes += await loop(N - half, lean.call);
  probes += await loop(N - half, probeViaControl);
  bare += await loop(N - half, bareWho);
  lean.close();
  const rate = (ms: number): string => `${N} in ${(ms / 1000).toFixed(2)} s (${Math.round(N / (ms / 1000))}/s, ${(ms / N).toFixed(3)} ms each)`;
  printRatio({
    name: 'probe overhead (control API POST /probe via node:http keep-alive vs bare connect+WHO)',
    measured: `${rate(probes)} TCP probes through the control API`,
    reference: `${rate(bare)} bare node:net connect+WHO round trips`,
    ratio: probes / bare,
    target: { max: 1.5 },
  });
  printRatio({
    name: 'probe overhead, agent only (same POST /probe from a minimal HTTP/1.1 client vs bare connect+WHO)',
    measured: `${rate(leanProbes)} TCP probes through the control API`,
    reference: `${rate(bare)} bare node:net connect+WHO round trips`,
    ratio: leanProbes / bare,
    target: { max: 1.5 },
  });
} finally {
  keepAlive.destroy();
  for (const child of children) child.kill('SIGTERM');
}
