/**
 * Debian's chromium driven by playwright-core for the report's browser tests: never a browser
 * download, a fresh profile per launch (removed afterwards), every request recorded and anything
 * that is not file:// refused, so a page that tries to reach the network fails its test.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why the browser tests cannot run here, or null when they can. */
export function browserUnavailable(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `${CHROMIUM_PATH} not found: install Debian's chromium (apt-get install -y chromium); .ci/run does this`;
}

export interface BrowserSession {
  context: BrowserContext;
  /** Every URL the pages asked for, navigations included. */
  requests: string[];
  /** Console errors and page errors (a CSP violation shows up here). */
  errors: string[];
}

export async function withBrowser<T>(fn: (session: BrowserSession) => Promise<T>, options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number } } = {}): Promise<T> {
  const profile = await mkdtemp(path.join(tmpdir(), 'podpath-chromium-'));
  const requests: string[] = [];
  const errors: string[] = [];
  let context: BrowserContext | undefined;
  try {
    // launchPersistentContext passes the profile as --user-data-dir; headless adds --headless.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: options.viewport ?? { width: 1280, height: 900 },
      javaScriptEnabled: options.javaScriptEnabled ?? true,
      timeout: 30_000,
    });
    context.on('request', (request) => void requests.push(request.url()));
    context.on('weberror', (error) => void errors.push(`page error: ${error.error().message}`));
    context.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    await context.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort('blockedbyclient')));
    return await fn({ context, requests, errors });
  } finally {
    await context?.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  }
}
