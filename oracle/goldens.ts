/** Where golden dumps live and what they carry; shared by `npm run oracle` and the tests (no Go needed to read them). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

export const ORACLE_DIR = fileURLToPath(new URL('.', import.meta.url));
export const GOLDENS_DIR = path.join(ORACLE_DIR, 'goldens');

/** The top-level record beside `configs`: which istiod code made the dump, from which inputs. */
export interface OracleRecord {
  istioModule: string;
  istioCommit: string;
  goVersion: string;
  inputsHash: string;
  minor: string;
  release: string;
  state: string;
  pilotEnv: Record<string, string>;
  client: string;
}

export interface GoldenDump {
  podpath_oracle: OracleRecord;
  configs: unknown[];
}

export function goldenPath(minor: string, state: string, client: string, root = GOLDENS_DIR): string {
  return path.join(root, minor, state, `${client}.json.gz`);
}

export function encodeGolden(golden: GoldenDump): Buffer {
  return gzipSync(Buffer.from(`${JSON.stringify(golden)}\n`), { level: 9 });
}

export function decodeGolden(bytes: Buffer): GoldenDump {
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as GoldenDump;
}

export function readGolden(minor: string, state: string, client: string, root = GOLDENS_DIR): GoldenDump | null {
  const file = goldenPath(minor, state, client, root);
  return existsSync(file) ? decodeGolden(readFileSync(file)) : null;
}

/** Every golden file under root, as minor/state/client. */
export function listGoldens(root = GOLDENS_DIR): Array<{ minor: string; state: string; client: string }> {
  if (!existsSync(root)) return [];
  const out: Array<{ minor: string; state: string; client: string }> = [];
  for (const minor of readdirSync(root).sort()) {
    const mdir = path.join(root, minor);
    for (const state of readdirSync(mdir).sort()) {
      for (const file of readdirSync(path.join(mdir, state)).sort()) {
        if (file.endsWith('.json.gz')) out.push({ minor, state, client: file.slice(0, -'.json.gz'.length) });
      }
    }
  }
  return out;
}

/** Minors that have goldens committed. */
export function goldenMinors(root = GOLDENS_DIR): string[] {
  return existsSync(root) ? readdirSync(root).sort() : [];
}
