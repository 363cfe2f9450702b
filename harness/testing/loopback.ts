/**
 * Test support: loopback "pod IPs" beyond 127.0.0.1 (127.0.10.x for the agent tests, 127.0.2X.x
 * for the loopback bed). Linux routes all of 127.0.0.0/8 to lo; macOS configures only 127.0.0.1
 * unless aliases are added. A file that needs them runs where they exist and otherwise skips every
 * test with a printed reason: never a pass that observed nothing.
 */
import net from 'node:net';
import type { TestFn } from 'ava';

/** The first of `addresses` that cannot be bound here and why, or null when all can. Binding sends no packet. */
export async function loopbackUnavailable(addresses: readonly string[]): Promise<{ address: string; reason: string } | null> {
  for (const address of addresses) {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const server = net.createServer();
      server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
      server.listen(0, address, () => server.close(() => resolve(null)));
    });
    if (error) {
      return { address, reason: `${address} is not a local address here (${error.code ?? error.message}); Linux routes all of 127.0.0.0/8 to lo, on macOS add the aliases first (sudo ifconfig lo0 alias ${address} up, for each address the file uses)` };
    }
  }
  return null;
}

const HOOKS = new Set(['before', 'after', 'beforeEach', 'afterEach']);

/**
 * `test` itself when `reason` is null; otherwise a stand-in that registers every test as skipped,
 * the reason in its title (ava prints it), and drops the hooks, which would start the sockets.
 */
export function skippedBecause<Context>(test: TestFn<Context>, reason: string | null): TestFn<Context> {
  if (reason === null) return test;
  const noop = Object.assign(() => {}, { always: () => {}, skip: () => {} });
  const register = (args: unknown[]): void => {
    const [title, ...rest] = args;
    const skip = test.skip as unknown as (...a: unknown[]) => void;
    if (typeof title === 'string') skip(`${title} [skipped: ${reason}]`, ...rest);
    else skip(...args);
  };
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      apply: (_target, _this, args: unknown[]) => register(args),
      get: (inner, prop) => {
        if (prop === 'serial' || prop === 'only') return wrap(test.serial);
        if (typeof prop === 'string' && HOOKS.has(prop)) return noop;
        return Reflect.get(inner, prop);
      },
    });
  return wrap(test);
}

/** `test`, or the skipping stand-in when the addresses are missing (the reason is printed once). */
export async function onLoopbackAliases<Context>(test: TestFn<Context>, addresses: readonly string[]): Promise<TestFn<Context>> {
  const missing = await loopbackUnavailable(addresses);
  if (missing) console.log(`skipping these loopback tests: ${missing.reason}`);
  return skippedBecause(test, missing && `no loopback address ${missing.address}`);
}
