/**
 * `npm run refresh-versions`: fetch what upstream publishes and rebuild harness/cluster/versions.json.
 * Sources (all configurable, so tests point them at a fixture server on 127.0.0.1):
 *   GitHub REST API   GET /repos/istio/istio/releases, GET /repos/kubernetes-sigs/kind/releases
 *   raw GitHub        istio/istio.io master data/compatibility/supportStatus.yml
 *   release assets    istioctl-V-PLATFORM.tar.gz.sha256, at the URL the release JSON names
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { Io } from '../../harness/cli/output.ts';
import { write } from '../../harness/cli/output.ts';
import { EnvironmentError, UsageError } from '../../harness/errors/index.ts';
import { parseChecksumFile } from '../../harness/cluster/assets.ts';
import { writeFileAtomic } from '../../harness/cluster/download.ts';
import { checksumRequests, refreshTable, type ChecksumRequest, type GitHubRelease, type SupportStatusEntry } from '../../harness/cluster/version-refresh.ts';
import { parseVersionTable, replaceDocsTable, serializeVersionTable } from '../../harness/cluster/version-table.ts';

export const REFRESH_HELP = `Usage: npm run refresh-versions [-- options]
       npx node scripts/refresh-versions.ts [options]

Rebuilds harness/cluster/versions.json from the GitHub releases of istio/istio (patches,
istioctl sha256 per platform) and kubernetes-sigs/kind (node image digests from the release
notes), and istio.io's supported-releases table (Kubernetes range, end of life). Adds facts and
never drops or overwrites one: a recorded checksum stays as it is. Needs network to GitHub.

Options:
  --file FILE        the table to update (default harness/cluster/versions.json)
  --docs FILE        the Markdown whose generated version table to update (default docs/cluster.md)
  --github-api URL   GitHub REST API base (default $PODPATH_GITHUB_API or https://api.github.com)
  --github-raw URL   raw file base (default $PODPATH_GITHUB_RAW or https://raw.githubusercontent.com)
  --pages N          pages of 100 istio/istio releases to read (default 5)
  --dry-run          print what would change, write nothing
  -h, --help         show this help

GITHUB_TOKEN, when set, is sent to the API base to lift the anonymous rate limit.
Exit codes: 0 done (or nothing to change), 2 usage or network error.
`;

export interface RefreshOptions {
  file: string;
  docs: string;
  githubApi: string;
  githubRaw: string;
  pages: number;
  dryRun: boolean;
  help: boolean;
}

export type HttpFetch = (url: string, init: { headers: Record<string, string>; signal?: AbortSignal }) => Promise<Response>;

function base(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: '${value}' is not a URL`, { hint: "Run 'npm run refresh-versions -- --help' for usage." });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`${flag}: only http(s) URLs are supported, not ${url.protocol}`);
  return value.replace(/\/+$/, '');
}

export function parseRefreshArgs(args: string[], env: NodeJS.ProcessEnv, cwd: string): RefreshOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        file: { type: 'string' },
        docs: { type: 'string' },
        'github-api': { type: 'string' },
        'github-raw': { type: 'string' },
        pages: { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`refresh-versions: ${error instanceof Error ? error.message.split('. ')[0] : String(error)}`, { hint: "Run 'npm run refresh-versions -- --help' for usage." });
  }
  const pages = values.pages === undefined ? 5 : Number(values.pages);
  if (!Number.isInteger(pages) || pages < 1 || pages > 20) throw new UsageError(`--pages needs a whole number from 1 to 20, not '${values.pages}'`);
  return {
    file: path.resolve(cwd, values.file ?? 'harness/cluster/versions.json'),
    docs: path.resolve(cwd, values.docs ?? 'docs/cluster.md'),
    githubApi: base(values['github-api'] ?? env.PODPATH_GITHUB_API ?? 'https://api.github.com', '--github-api'),
    githubRaw: base(values['github-raw'] ?? env.PODPATH_GITHUB_RAW ?? 'https://raw.githubusercontent.com', '--github-raw'),
    pages,
    dryRun: values['dry-run'] ?? false,
    help: values.help ?? false,
  };
}

interface Client {
  text(url: string): Promise<string>;
  json(url: string): Promise<unknown>;
}

function client(fetchFn: HttpFetch, options: RefreshOptions, env: NodeJS.ProcessEnv, signal?: AbortSignal): Client {
  const text = async (url: string): Promise<string> => {
    // The token goes only to the API base the user chose, never to asset or raw hosts.
    const headers: Record<string, string> = { 'user-agent': 'podpath-refresh-versions' };
    if (url.startsWith(`${options.githubApi}/`)) {
      headers.accept = 'application/vnd.github+json';
      if (env.GITHUB_TOKEN) headers.authorization = `Bearer ${env.GITHUB_TOKEN}`;
    }
    let response: Response;
    try {
      response = await fetchFn(url, { headers, signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new EnvironmentError(`cannot reach ${new URL(url).host} (${url})`, { hint: 'refresh-versions needs network access to GitHub; check the connection or proxy.', cause: error });
    }
    if (!response.ok) {
      const limited = response.status === 403 || response.status === 429;
      throw new EnvironmentError(`GET ${url} answered ${response.status}`, {
        hint: limited ? 'GitHub rate-limits anonymous API calls: set GITHUB_TOKEN and run again.' : 'The upstream layout may have changed; nothing was written.',
      });
    }
    return response.text();
  };
  return {
    text,
    async json(url) {
      const body = await text(url);
      try {
        return JSON.parse(body) as unknown;
      } catch (error) {
        throw new EnvironmentError(`GET ${url} did not return JSON`, { hint: 'Nothing was written.', cause: error });
      }
    },
  };
}

function releases(value: unknown, url: string): GitHubRelease[] {
  if (!Array.isArray(value)) throw new EnvironmentError(`GET ${url} did not return a list of releases`, { hint: 'Nothing was written.' });
  return value.filter((r): r is GitHubRelease => typeof r === 'object' && r !== null && typeof (r as GitHubRelease).tag_name === 'string').map((r) => ({ ...r, assets: Array.isArray(r.assets) ? r.assets : [] }));
}

export function parseSupportStatus(text: string): SupportStatusEntry[] {
  const value = parseYaml(text) as unknown;
  if (!Array.isArray(value)) throw new EnvironmentError("istio.io's supportStatus.yml is not a list", { hint: 'Nothing was written.' });
  return value.flatMap((entry: Record<string, unknown>) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const version = String(entry.version ?? '');
    const k8s = Array.isArray(entry.k8sVersions) ? entry.k8sVersions.map(String) : [];
    return [{ version, supported: String(entry.supported ?? ''), k8sVersions: k8s }];
  });
}

async function fetchSums(http: Client, requests: ChecksumRequest[]): Promise<Map<string, string>> {
  const sums = new Map<string, string>();
  // A few at a time: hundreds of small files, one host.
  const queue = [...requests];
  await Promise.all(Array.from({ length: Math.min(6, queue.length) }, async () => {
    for (let request = queue.shift(); request; request = queue.shift()) {
      sums.set(`${request.version} ${request.platform}`, parseChecksumFile(await http.text(request.url), request.fileName));
    }
  }));
  return sums;
}

export interface RefreshDeps {
  fetch: HttpFetch;
  now: () => Date;
  signal?: AbortSignal;
}

export async function runRefresh(options: RefreshOptions, deps: RefreshDeps, io: Io): Promise<number> {
  const current = parseVersionTable(JSON.parse(await readFile(options.file, 'utf8')));
  const http = client(deps.fetch, options, io.env, deps.signal);
  const istioReleases: GitHubRelease[] = [];
  for (let page = 1; page <= options.pages; page++) {
    const url = `${options.githubApi}/repos/istio/istio/releases?per_page=100&page=${page}`;
    const batch = releases(await http.json(url), url);
    istioReleases.push(...batch);
    if (batch.length < 100) break;
  }
  const kindUrl = `${options.githubApi}/repos/kubernetes-sigs/kind/releases?per_page=100`;
  const kindReleases = releases(await http.json(kindUrl), kindUrl);
  const supportStatus = parseSupportStatus(await http.text(`${options.githubRaw}/istio/istio.io/master/data/compatibility/supportStatus.yml`));
  const inputs = { istioReleases, kindReleases, supportStatus, today: deps.now() };

  // Merge once to learn which patches the table will hold, then fetch only their missing sums.
  const draft = refreshTable(current, { ...inputs, sums: new Map() });
  const requests = checksumRequests(draft.table, istioReleases);
  await write(io.stderr, `read ${istioReleases.length} istio/istio and ${kindReleases.length} kind releases; fetching ${requests.length} istioctl checksum files\n`);
  const result = refreshTable(current, { ...inputs, sums: await fetchSums(http, requests) });
  const text = serializeVersionTable(parseVersionTable(result.table));

  for (const warning of result.warnings) await write(io.stderr, `refresh-versions: warning: ${warning}\n`);
  await write(io.stdout, result.changes.length ? `${result.changes.map((c) => `  ${c}`).join('\n')}\n` : 'no new releases, sums or node images\n');
  // The docs table is generated from the same data, so a refresh cannot leave it behind.
  const doc = await readFile(options.docs, 'utf8').catch(() => null);
  const newDoc = doc === null ? null : replaceDocsTable(doc, result.table);
  if (newDoc === null) await write(io.stderr, `refresh-versions: warning: ${path.relative(io.cwd, options.docs)} has no generated version table to update\n`);
  if (options.dryRun) {
    await write(io.stdout, `(dry run: ${path.relative(io.cwd, options.file)} not written)\n`);
  } else {
    await writeFileAtomic(options.file, text);
    if (newDoc !== null && newDoc !== doc) await writeFileAtomic(options.docs, newDoc);
    await write(io.stdout, `wrote ${path.relative(io.cwd, options.file)}${newDoc !== null ? ` and ${path.relative(io.cwd, options.docs)}` : ''}: newest Istio ${result.table.istio[0].patches[0]}, kind ${result.table.kind.default}\n`);
  }
  return 0;
}
