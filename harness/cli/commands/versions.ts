import type { Command, CommandContext } from '../command.ts';
import { write } from '../output.ts';
import { UsageError } from '../../errors/index.ts';
import { ISTIO_MINORS, NODE_IMAGES, VERSION_TABLE, newestIstio, pickNodeImage } from '../../cluster/versions.ts';
import { ISTIOCTL_PLATFORMS } from '../../cluster/version-table.ts';

export interface VersionEntry {
  minor: string;
  /** What `--istio MINOR` resolves to. */
  newest: string;
  patches: string[];
  /** True once the minor is end of life; false means a newer patch may exist than `newest`. */
  patchesComplete: boolean;
  patchesAsOf: string;
  kubernetes: string[];
  nodeImage: { kubernetes: string; image: string; kind: string };
  /** Platforms for which versions.json pins the sha256 of the newest patch's istioctl. */
  istioctlPinned: string[];
}

export interface VersionsReport {
  updated: string;
  newest: string;
  kind: string;
  versions: VersionEntry[];
}

export function versionsReport(): VersionsReport {
  return {
    updated: VERSION_TABLE.updated,
    newest: newestIstio(),
    kind: VERSION_TABLE.kind.default,
    versions: ISTIO_MINORS.map((m) => {
      const node = pickNodeImage(m);
      const sums = VERSION_TABLE.istio.find((e) => e.minor === m.minor)?.istioctlSha256[m.patches[0]] ?? {};
      return {
        minor: m.minor,
        newest: m.patches[0],
        patches: [...m.patches],
        patchesComplete: m.patchesComplete,
        patchesAsOf: m.patchesAsOf,
        kubernetes: [...m.kubernetes],
        nodeImage: { kubernetes: node.kubernetes, image: node.image, kind: node.kind },
        istioctlPinned: ISTIOCTL_PLATFORMS.filter((p) => sums[p]),
      };
    }),
  };
}

export function renderVersions(report: VersionsReport): string {
  const rows = [['Istio', 'newest', 'patches', 'Kubernetes', 'node image', 'kind']];
  for (const v of report.versions) {
    rows.push([v.minor, `${v.newest}${v.patchesComplete ? '' : '*'}`, `${v.patches.at(-1)} – ${v.newest}`, `${v.kubernetes[0]} – ${v.kubernetes.at(-1)}`, `v${v.nodeImage.kubernetes}`, v.nodeImage.kind]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  return [
    `Istio versions podpath knows (table of ${report.updated}; newest ${report.newest}):`,
    '',
    ...lines,
    '',
    '* end of life not reached when the list was taken: a newer patch may exist.',
    'To learn newer releases: npm run refresh-versions (needs network to GitHub).',
    '',
  ].join('\n');
}

export const versionsCommand: Command = {
  name: 'versions',
  summary: 'List the Istio versions podpath can install, with the newest patch of each (offline)',
  usage: '[--json | --newest]',
  details: [
    'Reads podpath\'s version table (harness/cluster/versions.json); `--istio MINOR` elsewhere means',
    'the newest patch listed here. Node images: ' + Object.keys(NODE_IMAGES).map((k) => `Kubernetes ${k}`).join(', ') + '.',
    'Examples:',
    '  npx podpath versions --json | jq -c \'[.versions[].newest]\'   # the nightly matrix',
    '  npx podpath run --istio "$(npx podpath versions --newest)"',
    'Exit codes: 0 ok, 2 usage error.',
  ].join('\n'),
  options: {
    json: { type: 'boolean', description: 'print the table as JSON (every minor with its newest patch)' },
    newest: { type: 'boolean', description: 'print only the newest Istio version podpath knows' },
  },
  allowPositionals: false,
  async run(ctx: CommandContext): Promise<number> {
    if (ctx.values.newest === true && ctx.values.json === true) {
      throw new UsageError('versions: --json and --newest do not go together', { hint: "--newest prints one line; use --json alone for the whole table." });
    }
    const report = versionsReport();
    if (ctx.values.newest === true) await write(ctx.io.stdout, `${report.newest}\n`);
    else if (ctx.values.json === true) await write(ctx.io.stdout, `${JSON.stringify(report, null, 2)}\n`);
    else await write(ctx.io.stdout, renderVersions(report));
    return 0;
  },
};
