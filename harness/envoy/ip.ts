/** IP addresses and CIDR ranges as bigints, so IPv4 and IPv6 share one prefix test. */
import { isIPv4, isIPv6 } from 'node:net';

export interface Ip {
  family: 4 | 6;
  value: bigint;
  text: string;
}

export interface Cidr {
  family: 4 | 6;
  value: bigint;
  prefixLen: number;
  text: string;
}

export function parseIp(text: string): Ip | null {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(bare)) {
    const value = bare.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { family: 4, value, text: bare };
  }
  if (isIPv6(bare)) {
    // Zone ids (fe80::1%eth0) never appear in dumps; drop them rather than fail.
    const noZone = bare.split('%')[0];
    const [head, tail] = noZone.includes('::') ? noZone.split('::') : [noZone, undefined];
    const expandV4 = (groups: string[]): string[] => {
      const last = groups[groups.length - 1];
      if (last !== undefined && isIPv4(last)) {
        const n = last.split('.').map(Number);
        return [...groups.slice(0, -1), ((n[0] << 8) | n[1]).toString(16), ((n[2] << 8) | n[3]).toString(16)];
      }
      return groups;
    };
    const headGroups = head ? expandV4(head.split(':')) : [];
    const tailGroups = tail ? expandV4(tail.split(':')) : [];
    const fill = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
    const groups = [...headGroups, ...Array<string>(fill).fill('0'), ...tailGroups];
    const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
    return { family: 6, value, text: formatIp6(value) };
  }
  return null;
}

/** Canonical text (RFC 5952 style) so `fd00:0::7` and `fd00::7` compare equal. */
function formatIp6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function cidr(address: string, prefixLen: number | undefined): Cidr | null {
  const ip = parseIp(address);
  if (!ip) return null;
  const bits = ip.family === 4 ? 32 : 128;
  // Envoy treats a missing prefix_len as 0 (match all of the family).
  const len = Math.max(0, Math.min(bits, prefixLen ?? 0));
  const mask = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
  return { family: ip.family, value: ip.value & mask, prefixLen: len, text: `${ip.text}/${len}` };
}

export function cidrContains(range: Cidr, ip: Ip): boolean {
  if (range.family !== ip.family) return false;
  const bits = range.family === 4 ? 32 : 128;
  if (range.prefixLen === 0) return true;
  const mask = ((1n << BigInt(range.prefixLen)) - 1n) << BigInt(bits - range.prefixLen);
  return (ip.value & mask) === range.value;
}

export interface Destination {
  ip: Ip;
  port: number;
  /** "10.244.1.7:5701" or "[fd00::7]:5701" */
  text: string;
}

/** Parses `IP:PORT` or `[IPv6]:PORT`; null when it is neither. */
export function parseDestination(text: string): Destination | null {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!match) return null;
  const ip = parseIp(match[1]);
  const port = Number(match[2]);
  if (!ip || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { ip, port, text: hostPort(ip, port) };
}

export function hostPort(ip: Ip, port: number): string {
  return ip.family === 6 ? `[${ip.text}]:${port}` : `${ip.text}:${port}`;
}

export function sameIp(a: Ip, b: Ip): boolean {
  return a.family === b.family && a.value === b.value;
}
