/**
 * Misbehaving TCP peers for the probe tests: each one does to a connection what a sidecar or a
 * workload can do to it (close at once, reset, answer then reset, never answer). Loopback only.
 */
import net from 'node:net';
import http from 'node:http';

export type PeerBehaviour =
  /** accept, then FIN before sending anything (the UF,URX symptom seen from the app) */
  | 'fin'
  /** accept, then RST before sending anything */
  | 'rst'
  /** wait for the request, send some bytes, then RST */
  | 'rst-after-data'
  /** accept and never answer */
  | 'silent'
  /** echo every byte (a plain echo server that does not know WHO) */
  | 'echo'
  /** reply to anything with a fixed line that is not an identity */
  | 'garbage';

export interface Peer extends AsyncDisposable {
  address: string;
  port: number;
  /** `ip:port` of every connection as the peer saw its remote end, in arrival order. */
  remotes: string[];
  /** Resolves once `count` connections have arrived: an event to wait for instead of a guessed delay. */
  accepted(count?: number): Promise<void>;
}

/** `data`: what 'rst-after-data' sends before the reset (default: a partial line). */
export async function startPeer(host: string, port: number, behaviour: PeerBehaviour, options: { data?: string } = {}): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const remotes: string[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    remotes.push(`${socket.remoteAddress}:${socket.remotePort}`);
    for (const waiter of waiters.filter((w) => w.count <= remotes.length)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    switch (behaviour) {
      case 'fin':
        socket.end();
        break;
      case 'rst':
        socket.resetAndDestroy();
        break;
      case 'rst-after-data':
        socket.once('data', () => {
          socket.write(options.data ?? 'partial reply without newline');
          // Let the bytes reach the client before the RST, so "data then reset" is what it sees.
          setTimeout(() => socket.resetAndDestroy(), 50);
        });
        break;
      case 'silent':
        socket.resume();
        break;
      case 'echo':
        socket.pipe(socket);
        break;
      case 'garbage':
        socket.once('data', () => socket.end('220 smtp.example ESMTP ready\r\n'));
        break;
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address: host,
    port: bound.port,
    remotes,
    accepted(count = 1) {
      if (remotes.length >= count) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ count, resolve }));
    },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface JsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  text: string;
}

/** POSTs (or GETs) to an agent's control API with a fresh connection; raw `body` strings are sent as is. */
export function control(host: string, port: number, method: string, path: string, body?: unknown, agent?: http.Agent): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request(
      {
        host,
        port,
        method,
        path,
        agent: agent ?? false,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
