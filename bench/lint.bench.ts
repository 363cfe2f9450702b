/**
 * podpath lint over N generated resources vs parsing the same YAML with the `yaml` package
 * alone (parseAllDocuments, no lint), in the same run (target: ratio <= 2).
 * N = 20,000 x BENCH_SCALE (default 1). The mix has many Services sharing TCP ports across
 * namespaces, ExternalNames with ports, DNS ServiceEntries, Sidecars and workloads, so PP003's
 * grouping and visibility checks do real work.
 */
import { performance } from 'node:perf_hooks';
import { parseAllDocuments } from 'yaml';
import { printRatio } from './lib.ts';
import { lint } from '../harness/lint/index.ts';

const scale = Number(process.env.BENCH_SCALE ?? '1');
if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, not ${process.env.BENCH_SCALE}`);
const N = Math.max(200, Math.round(20_000 * scale));
const NAMESPACES = Math.max(10, Math.round(N / 100));

let seed = 0x2545f491;
function rand(n: number): number {
  seed ^= seed << 13; seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}

const TCP_PORTS = [5701, 6379, 9092, 27017, 7000, 7001];

function service(i: number, ns: string): string {
  const external = rand(40) === 0;
  const tcpPort = TCP_PORTS[rand(TCP_PORTS.length)];
  const exportTo = rand(5) === 0 ? '  annotations:\n    networking.istio.io/exportTo: "."\n' : '';
  return `apiVersion: v1
kind: Service
metadata:
  name: svc-${i}
  namespace: ${ns}
  labels:
    app.kubernetes.io/name: svc-${i}
    app.kubernetes.io/part-of: bench
${exportTo}spec:
${external ? `  type: ExternalName\n  externalName: target-${i}.example.com\n` : `  selector:\n    app: svc-${i}\n`}  ports:
  - name: http-web
    port: 8080
    protocol: TCP
    targetPort: 8080
  - name: ${rand(4) === 0 ? 'cluster' : 'tcp-cluster'}
    port: ${tcpPort}
    protocol: TCP
    targetPort: ${tcpPort}
`;
}

function deployment(i: number, ns: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: ${ns}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: svc-${i}
  template:
    metadata:
      labels:
        app: svc-${i}
    spec:
      containers:
      - name: app
        image: registry.example.com/app:1.${i % 10}
        ports:
        - containerPort: 8080
        - containerPort: ${TCP_PORTS[rand(TCP_PORTS.length)]}
        env:
        - name: MODE
          value: cluster
`;
}

function serviceEntry(i: number, ns: string): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ext-${i}
  namespace: ${ns}
spec:
  hosts:
  - db-${i}.example.com
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - number: ${TCP_PORTS[rand(TCP_PORTS.length)]}
    name: tcp-db
    protocol: TCP
`;
}

function sidecar(ns: string): string {
  return `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: ${ns}
spec:
  egress:
  - hosts:
    - "./*"
    - "istio-system/*"
`;
}

function generate(): string {
  const docs: string[] = [];
  for (let n = 0; n < NAMESPACES && docs.length < N; n++) {
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-${n}\n`);
    if (n % 3 === 0) docs.push(sidecar(`ns-${n}`));
  }
  // Half of the rest inside one kind: List, as kubectl get -o yaml prints it.
  const items: string[] = [];
  for (let i = 0; docs.length + items.length < N; i++) {
    const ns = `ns-${rand(NAMESPACES)}`;
    const r = rand(20);
    const text = r < 9 ? service(i, ns) : r < 18 ? deployment(i, ns) : serviceEntry(i, ns);
    if (i % 2 === 0) docs.push(text);
    else items.push(text);
  }
  const list = 'apiVersion: v1\nkind: List\nitems:\n' + items.map((t) => t.split('\n').filter(Boolean).map((l, j) => (j === 0 ? `- ${l}` : `  ${l}`)).join('\n')).join('\n') + '\n';
  return [...docs, list].join('---\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const text = generate();
const mb = (Buffer.byteLength(text) / 1e6).toFixed(1);
const ROUNDS = 5;
const parseMs: number[] = [];
const lintMs: number[] = [];
let findings = 0;
// Interleaved rounds so both see the same machine load; the first round of each is warm-up.
for (let round = 0; round <= ROUNDS; round++) {
  let start = performance.now();
  const docs = parseAllDocuments(text);
  const parsed = performance.now() - start;
  if (!Array.isArray(docs) || docs.length === 0) throw new Error('generated YAML did not parse');
  start = performance.now();
  findings = lint([{ path: 'bench.yaml', text }], { istio: '1.20' }).length;
  const linted = performance.now() - start;
  if (round > 0) {
    parseMs.push(parsed);
    lintMs.push(linted);
  }
}
const p = median(parseMs);
const l = median(lintMs);
printRatio({
  name: `podpath lint vs yaml parseAllDocuments (${N} resources, ${mb} MB)`,
  measured: `lint ${l.toFixed(0)} ms (median of ${ROUNDS}), ${findings} findings`,
  reference: `parseAllDocuments ${p.toFixed(0)} ms (median of ${ROUNDS})`,
  ratio: l / p,
  target: { max: 2 },
});
