/**
 * TEST DOUBLE: a tiny Kubernetes API server on 127.0.0.1 (port 0) so tests drive the REAL
 * @kubernetes/client-node through KubeClient.fromKubeconfig. It implements only what KubeClient
 * uses: discovery, server-side apply, get/list/watch, create/replace/delete, pod logs, the pod
 * proxy and exec (websocket, channel.k8s.io v4), plus injected faults: error statuses (409, 404,
 * 403, ...), watch streams dropped mid-way, and rollouts that finish later. Never shipped as a mode.
 */
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';

type Obj = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  contentType: string | null;
  authorization: string | null;
  body: string;
  watch: boolean;
}

export interface Fault {
  method?: string;
  /** Matches when the request path contains this string (or matches this regex). */
  path: string | RegExp;
  status: number;
  reason: string;
  message?: string;
  /** How many requests it fails (default 1). */
  times?: number;
}

export type ProxyHandler = (req: { namespace: string; pod: string; port: number; path: string; body: string }) => Promise<{ status: number; body: string }>;
export type ExecHandler = (req: { namespace: string; pod: string; container: string; command: string[] }) => { stdout: string; stderr?: string; exitCode: number };

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  collection: string;
  object: Obj;
}

interface Watcher {
  collection: string;
  fieldName: string | null;
  res: http.ServerResponse;
  sent: number;
}

const DISCOVERY: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>> = {
  '/api/v1': [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: true },
    { name: 'services', kind: 'Service', namespaced: true },
    { name: 'pods', kind: 'Pod', namespaced: true },
    { name: 'events', kind: 'Event', namespaced: true },
  ],
  '/apis/apps/v1': [{ name: 'deployments', kind: 'Deployment', namespaced: true }],
  '/apis/coordination.k8s.io/v1': [{ name: 'leases', kind: 'Lease', namespaced: true }],
  '/apis/networking.istio.io/v1beta1': [
    { name: 'sidecars', kind: 'Sidecar', namespaced: true },
    { name: 'virtualservices', kind: 'VirtualService', namespaced: true },
    { name: 'serviceentries', kind: 'ServiceEntry', namespaced: true },
  ],
  '/apis/security.istio.io/v1beta1': [{ name: 'peerauthentications', kind: 'PeerAuthentication', namespaced: true }],
};

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function meta(o: Obj): Obj {
  if (!isObj(o.metadata)) o.metadata = {};
  return o.metadata as Obj;
}

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** Split a request path into its collection and (optional) object name. */
function parsePath(p: string): { collection: string; name: string | null; sub: string | null } | null {
  const m = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(.+))?$/.exec(p);
  if (!m) return null;
  const [, root, ns, plural, name, sub] = m;
  if (plural === 'namespaces' && ns === undefined && name !== undefined) return { collection: `${root}/namespaces`, name, sub: sub ?? null };
  return { collection: `${root}${ns ? `/namespaces/${ns}` : ''}/${plural}`, name: name ? decodeURIComponent(name) : null, sub: sub ?? null };
}

function matchesLabels(o: Obj, selector: string | null): boolean {
  if (!selector) return true;
  const labels = isObj(meta(o).labels) ? (meta(o).labels as Obj) : {};
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return labels[k] === v;
  });
}

function fieldValue(o: Obj, field: string): unknown {
  let cur: unknown = o;
  for (const part of field.split('.')) cur = isObj(cur) ? cur[part] : undefined;
  return cur;
}

function matchesFields(o: Obj, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=');
    return fieldValue(o, k) === v;
  });
}

function wsFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

export class FakeApiServer implements AsyncDisposable {
  readonly requests: RecordedRequest[] = [];
  /** Object path → object. */
  readonly objects = new Map<string, Obj>();
  readonly faults: Fault[] = [];
  /** Pod logs: `namespace/pod/container` → timestamped lines. */
  readonly logs = new Map<string, Array<{ time: Date; line: string }>>();
  proxyHandler: ProxyHandler = async () => ({ status: 503, body: JSON.stringify(status(503, 'ServiceUnavailable', 'no proxy handler in the fake')) });
  execHandler: ExecHandler = () => ({ stdout: '', stderr: 'no exec handler in the fake', exitCode: 1 });
  /** Drop the next N watch streams after this many events each (a mid-stream disconnect; 0 = end at once). */
  dropWatches: { remaining: number; afterEvents: number } = { remaining: 0, afterEvents: 0 };
  /** Called with each request before it is answered: lets a test change state at an exact call. */
  readonly onRequest: Array<(req: RecordedRequest) => void> = [];
  /** The next N watches that name a resourceVersion get 410 Gone (their window expired). */
  expireNextWatches = 0;

  private readonly server: http.Server;
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Duplex>();
  private rv = 1;
  private dir: string | null = null;
  url = '';

  private constructor() {
    this.server = http.createServer((req, res) => {
      // A bug in the double must fail the request, not crash the test process.
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status(500, 'InternalError', `fake API server: ${error instanceof Error ? error.message : String(error)}`)));
      });
    });
    // Node closes an idle keep-alive socket after 5 s; a busy client may reuse it at that instant and get ECONNRESET.
    this.server.keepAliveTimeout = 120_000;
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => this.upgrade(req, socket));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(): Promise<FakeApiServer> {
    const fake = new FakeApiServer();
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    const address = fake.server.address();
    if (!address || typeof address === 'string') throw new Error('fake API server has no address');
    fake.url = `http://127.0.0.1:${address.port}`;
    return fake;
  }

  /** A kubeconfig (temp file) whose context `fake` points here, plus a second context `elsewhere` (same server). */
  async writeKubeconfig(): Promise<string> {
    this.dir ??= await mkdtemp(path.join(tmpdir(), 'podpath-fake-kube-'));
    const file = path.join(this.dir, 'kubeconfig');
    const text = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: fake',
      'clusters:',
      // client-node 2 only speaks plain http when TLS verification is explicitly skipped.
      `- name: fake\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
      `- name: elsewhere\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
      'users:',
      '- name: tester\n  user:\n    token: fake-token',
      'contexts:',
      '- name: fake\n  context:\n    cluster: fake\n    user: tester',
      '- name: elsewhere\n  context:\n    cluster: elsewhere\n    user: tester',
      '',
    ].join('\n');
    await writeFile(file, text);
    return file;
  }

  /** Requests other than API discovery (what a test usually counts). */
  calls(): RecordedRequest[] {
    return this.requests.filter((r) => !(r.method === 'GET' && r.path in DISCOVERY));
  }

  fail(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Store an object as if a controller made it (pods, events, a Deployment's status). */
  put(objectPath: string, object: Obj): Obj {
    const parsed = parsePath(objectPath);
    if (!parsed || !parsed.name) throw new Error(`not an object path: ${objectPath}`);
    const existed = this.objects.has(objectPath);
    const copy = structuredClone(object);
    meta(copy).resourceVersion = String(++this.rv);
    this.objects.set(objectPath, copy);
    this.emit(existed ? 'MODIFIED' : 'ADDED', parsed.collection, copy);
    return copy;
  }

  get(objectPath: string): Obj | undefined {
    return this.objects.get(objectPath);
  }

  /** Set a Deployment's status as its controller would, e.g. to finish a slow rollout. */
  setDeploymentStatus(namespace: string, name: string, statusPatch: Obj): void {
    const p = `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`;
    const d = this.objects.get(p);
    if (!d) throw new Error(`no deployment ${namespace}/${name}`);
    this.put(p, { ...d, status: { ...(isObj(d.status) ? d.status : {}), ...statusPatch } });
  }

  /** Mark a Deployment fully rolled out (all replicas updated and available). */
  completeRollout(namespace: string, name: string): void {
    const d = this.objects.get(`/apis/apps/v1/namespaces/${namespace}/deployments/${name}`);
    const spec = isObj(d?.spec) ? d.spec : {};
    const replicas = typeof spec.replicas === 'number' ? spec.replicas : 1;
    const generation = d ? meta(d).generation : 1;
    this.setDeploymentStatus(namespace, name, { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });
  }

  private emit(type: WatchEvent['type'], collection: string, object: Obj): void {
    const event: WatchEvent = { rv: this.rv, type, collection, object: structuredClone(object) };
    this.events.push(event);
    for (const w of this.watchers) this.send(w, event);
  }

  private send(w: Watcher, event: WatchEvent): void {
    if (event.collection !== w.collection) return;
    if (w.fieldName !== null && meta(event.object).name !== w.fieldName) return;
    w.sent++;
    const drop = this.dropWatches.remaining > 0 && w.sent >= this.dropWatches.afterEvents;
    // A drop cuts the TCP connection right after the event is flushed: no clean end of stream.
    w.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`, drop ? () => w.res.socket?.destroy() : undefined);
    if (drop) {
      this.dropWatches.remaining--;
      this.watchers.delete(w);
    }
  }

  private injected(method: string, p: string): Fault | null {
    const i = this.faults.findIndex((f) => (f.method === undefined || f.method === method) && (typeof f.path === 'string' ? p.includes(f.path) : f.path.test(p)));
    if (i < 0) return null;
    const fault = this.faults[i];
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(i, 1);
    return fault;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const method = req.method ?? 'GET';
    const watch = url.searchParams.get('watch') === 'true';
    const recorded: RecordedRequest = { method, path: url.pathname, query: url.searchParams, contentType: req.headers['content-type'] ?? null, authorization: req.headers.authorization ?? null, body, watch };
    this.requests.push(recorded);
    for (const hook of this.onRequest) hook(recorded);
    const json = (code: number, value: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const fault = this.injected(watch ? 'WATCH' : method, url.pathname);
    if (fault) return json(fault.status, status(fault.status, fault.reason, fault.message ?? `injected ${fault.status} ${fault.reason}`));
    if (req.headers.authorization !== 'Bearer fake-token') return json(401, status(401, 'Unauthorized', 'no or wrong bearer token'));

    if (method === 'GET' && url.pathname in DISCOVERY) {
      return json(200, { kind: 'APIResourceList', groupVersion: url.pathname.replace(/^\/apis?\//, ''), resources: DISCOVERY[url.pathname].map((r) => ({ ...r, singularName: '', verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] })) });
    }
    const proxy = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+):(\d+)\/proxy(\/.*)?$/.exec(url.pathname);
    if (proxy && method === 'POST') {
      const answer = await this.proxyHandler({ namespace: proxy[1], pod: proxy[2], port: Number(proxy[3]), path: proxy[4] ?? '/', body });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      return void res.end(answer.body);
    }
    const parsed = parsePath(url.pathname);
    if (!parsed) return json(404, status(404, 'NotFound', `no route ${url.pathname}`));
    const objectPath = parsed.name ? `${parsed.collection}/${encodeURIComponent(parsed.name)}` : null;

    if (parsed.sub === 'log' && objectPath && method === 'GET') {
      const ns = /namespaces\/([^/]+)/.exec(parsed.collection)?.[1] ?? '';
      const key = `${ns}/${parsed.name}/${url.searchParams.get('container') ?? ''}`;
      const lines = this.logs.get(key);
      if (!lines) return json(404, status(404, 'NotFound', `container ${key} not found`));
      const since = url.searchParams.get('sinceTime');
      const from = since ? new Date(since).getTime() : -Infinity;
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(lines.filter((l) => l.time.getTime() >= from).map((l) => `${l.line}\n`).join(''));
    }

    if (!objectPath) {
      if (method === 'GET' && watch) return this.startWatch(parsed.collection, url.searchParams, res);
      if (method === 'GET') {
        const items = [...this.objects.entries()]
          .filter(([p]) => p.startsWith(`${parsed.collection}/`) && !p.slice(parsed.collection.length + 1).includes('/'))
          .map(([, o]) => o)
          .filter((o) => matchesLabels(o, url.searchParams.get('labelSelector')) && matchesFields(o, url.searchParams.get('fieldSelector')));
        return json(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
      }
      if (method === 'POST') {
        const object = JSON.parse(body) as Obj;
        const p = `${parsed.collection}/${encodeURIComponent(String(meta(object).name))}`;
        if (this.objects.has(p)) return json(409, status(409, 'AlreadyExists', `${meta(object).name} already exists`));
        return json(201, this.put(p, object));
      }
      return json(405, status(405, 'MethodNotAllowed', method));
    }

    const existing = this.objects.get(objectPath);
    if (method === 'GET') return existing ? json(200, existing) : json(404, status(404, 'NotFound', `${parsed.name} not found`));
    if (method === 'PATCH') {
      if (req.headers['content-type'] !== 'application/apply-patch+yaml') return json(415, status(415, 'UnsupportedMediaType', `only server-side apply here, got ${req.headers['content-type']}`));
      if (!url.searchParams.get('fieldManager')) return json(422, status(422, 'Invalid', 'fieldManager is required for apply patch'));
      const applied = JSON.parse(body) as Obj; // JSON is YAML: client-node sends JSON with the apply content type
      const specChanged = !existing || JSON.stringify(existing.spec) !== JSON.stringify(applied.spec);
      const generation = Number(existing ? meta(existing).generation ?? 1 : 0) + (specChanged ? 1 : 0);
      const merged: Obj = { ...applied, metadata: { ...meta(applied), generation, managedFields: [{ manager: url.searchParams.get('fieldManager'), operation: 'Apply' }] } };
      if (existing?.status !== undefined) merged.status = existing.status;
      return json(existing ? 200 : 201, this.put(objectPath, merged));
    }
    if (method === 'PUT') {
      if (!existing) return json(404, status(404, 'NotFound', `${parsed.name} not found`));
      const object = JSON.parse(body) as Obj;
      if (meta(object).resourceVersion !== meta(existing).resourceVersion) return json(409, status(409, 'Conflict', 'the object has been modified; please apply your changes to the latest version and try again'));
      return json(200, this.put(objectPath, object));
    }
    if (method === 'DELETE') {
      if (!existing) return json(404, status(404, 'NotFound', `${parsed.name} not found`));
      const options = body ? (JSON.parse(body) as Obj) : {};
      const pre = isObj(options.preconditions) ? options.preconditions : {};
      if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== meta(existing).resourceVersion) return json(409, status(409, 'Conflict', 'precondition failed: resourceVersion'));
      const finalizers = meta(existing).finalizers;
      if (Array.isArray(finalizers) && finalizers.length) {
        // Stays until a test removes it with finishDeletion(), like an object with finalizers.
        meta(existing).deletionTimestamp = new Date().toISOString();
        return json(200, existing);
      }
      this.remove(objectPath);
      return json(200, { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 });
    }
    return json(405, status(405, 'MethodNotAllowed', method));
  }

  /** Drop an object for good (what the garbage collector does after finalizers). */
  remove(objectPath: string): void {
    const existing = this.objects.get(objectPath);
    const parsed = parsePath(objectPath);
    if (!existing || !parsed) return;
    this.objects.delete(objectPath);
    this.rv++;
    this.emit('DELETED', parsed.collection, existing);
  }

  private startWatch(collection: string, query: URLSearchParams, res: http.ServerResponse): void {
    const from = Number(query.get('resourceVersion') ?? '0');
    if (from && this.expireNextWatches > 0) {
      this.expireNextWatches--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from}`) })}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (this.dropWatches.remaining > 0 && this.dropWatches.afterEvents === 0) {
      // afterEvents 0: the stream ends before any event, like a proxy that keeps closing it.
      this.dropWatches.remaining--;
      res.end();
      return;
    }
    res.flushHeaders();
    const field = query.get('fieldSelector');
    const fieldName = field?.startsWith('metadata.name=') ? field.slice('metadata.name='.length) : null;
    const watcher: Watcher = { collection, fieldName, res, sent: 0 };
    this.watchers.add(watcher);
    // Like the API server: timeoutSeconds ends the watch cleanly, whatever happened on it.
    const seconds = Number(query.get('timeoutSeconds') ?? '0');
    const ending = seconds > 0 ? setTimeout(() => res.end(), seconds * 1000) : null;
    res.on('close', () => {
      if (ending) clearTimeout(ending);
      this.watchers.delete(watcher);
    });
    for (const event of this.events) if (event.rv > from && this.watchers.has(watcher)) this.send(watcher, event);
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex): void {
    const url = new URL(req.url ?? '/', this.url);
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    this.requests.push({ method: 'GET', path: url.pathname, query: url.searchParams, contentType: null, authorization: req.headers.authorization ?? null, body: '', watch: false });
    const key = req.headers['sec-websocket-key'];
    if (!m || typeof key !== 'string') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (req.headers.authorization !== 'Bearer fake-token') {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const fault = this.injected('EXEC', url.pathname);
    if (fault) {
      const text = JSON.stringify(status(fault.status, fault.reason, fault.message ?? 'injected'));
      socket.end(`HTTP/1.1 ${fault.status} ${fault.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, 'Sec-WebSocket-Protocol: v4.channel.k8s.io', '', ''].join('\r\n'));
    socket.on('data', () => undefined); // the client's frames (close) need no answer beyond ending
    socket.on('error', () => undefined);
    const result = this.execHandler({ namespace: m[1], pod: m[2], container: url.searchParams.get('container') ?? '', command: url.searchParams.getAll('command') });
    const channel = (n: number, text: string): Buffer => wsFrame(0x2, Buffer.concat([Buffer.from([n]), Buffer.from(text)]));
    if (result.stdout) socket.write(channel(1, result.stdout));
    if (result.stderr) socket.write(channel(2, result.stderr));
    const st = result.exitCode === 0
      ? { metadata: {}, status: 'Success' }
      : { metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: ${result.exitCode}`, reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(result.exitCode) }] } };
    socket.write(channel(3, JSON.stringify(st)));
    socket.end(wsFrame(0x8, Buffer.from([0x03, 0xe8])));
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
