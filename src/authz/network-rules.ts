// Address ranges (CIDR, IPv4 and IPv6) a tenant or a role may be used from, and what a client
// address is allowed under them. Matching is node:net's BlockList: it takes both families natively
// and matches an IPv4-mapped IPv6 address (::ffff:10.0.0.5, what a dual-stack socket reports) against
// IPv4 ranges, so no dependency is needed; here we only validate and normalise what people type.
import { BlockList, isIPv4, isIPv6, SocketAddress } from 'node:net';
import type { RoleDefinition } from './role-permissions.ts';

export type AddressFamily = 'ipv4' | 'ipv6';

/** A parsed range: its network address (host bits must be clear), prefix length and family. */
export interface AddressRange {
  network: string;
  prefix: number;
  family: AddressFamily;
}

export class RangeSyntaxError extends Error {}

/** Parses "10.20.0.0/16", "2001:db8::/32" or a bare address (a /32 or /128); refuses host bits outside the prefix. */
export function parseRange(text: string): AddressRange {
  const [address = '', bits, extra] = text.trim().split('/');
  const family: AddressFamily | null = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : null;
  if (!family || extra !== undefined) throw new RangeSyntaxError(`"${text}" is not an IPv4 or IPv6 range such as 10.20.0.0/16 or 2001:db8::/48`);
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new RangeSyntaxError(`"${text}": the prefix length must be 0 to ${max}`);
  const network = maskAddress(address, family, prefix);
  if (network !== canonical(address, family)) throw new RangeSyntaxError(`"${text}" has host bits set; the range is ${network}/${prefix}`);
  return { network, prefix, family };
}

/** The range as stored and shown: canonical address text and prefix ("2001:db8::/32"). */
export const formatRange = (r: AddressRange) => `${r.network}/${r.prefix}`;

/** Normalises a list of ranges (canonical, deduplicated, in the order given). */
export function normaliseRanges(texts: readonly string[]): string[] {
  return [...new Set(texts.map((t) => formatRange(parseRange(t))))];
}

/** A matcher for stored (normalised) ranges. */
export function rangeMatcher(ranges: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const r of ranges.map(parseRange)) list.addSubnet(r.network, r.prefix, r.family);
  return (address) => {
    const family = familyOf(address);
    return family !== null && list.check(address, family);
  };
}

/** The family of a client address, or null when it is not one (an unknown peer). */
export function familyOf(address: string): AddressFamily | null {
  return isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : null;
}

/**
 * The neighbourhood an address belongs to for "sign-in from a new place" alerts: its /24 (IPv4,
 * IPv4-mapped IPv6 included) or its /48 (IPv6, a site's usual allocation).
 */
export function neighbourhoodOf(address: string): string | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  const plain = mapped ?? address;
  const family = familyOf(plain);
  if (!family) return null;
  const prefix = family === 'ipv4' ? 24 : 48;
  return `${maskAddress(plain, family, prefix)}/${prefix}`;
}

export interface NetworkRuleRow {
  /** null: the tenant-wide rule. */
  roleId: string | null;
  ranges: string[];
}

/**
 * For the roles of a snapshot: may an assignment of `roleId` count for a request from `address`?
 * A role requires its own rule and those of its ancestors (a child of a clinic-network role is a
 * clinic-network role too, as with requiresPhi). No rule: allowed everywhere.
 */
export function networkPredicate(rules: readonly NetworkRuleRow[], roles: ReadonlyMap<string, RoleDefinition>, address: string): (roleId: string) => boolean {
  const matchers = new Map(rules.filter((r) => r.roleId).map((r) => [r.roleId!, rangeMatcher(r.ranges)]));
  if (!matchers.size) return () => true;
  const memo = new Map<string, boolean>();
  return (roleId) => {
    let allowed = memo.get(roleId);
    if (allowed !== undefined) return allowed;
    allowed = true;
    const seen = new Set<string>();
    for (let id: string | null = roleId; id && !seen.has(id); id = roles.get(id)?.parentId ?? null) {
      seen.add(id);
      const match = matchers.get(id);
      if (match && !match(address)) allowed = false;
    }
    memo.set(roleId, allowed);
    return allowed;
  };
}

/** True when the tenant-wide rule (if any) allows `address`. */
export function tenantAllows(rules: readonly NetworkRuleRow[], address: string): boolean {
  const rule = rules.find((r) => r.roleId === null);
  return !rule || rangeMatcher(rule.ranges)(address);
}

function canonical(address: string, family: AddressFamily): string {
  return new SocketAddress({ address, family }).address;
}

/** The address with every bit after `prefix` cleared, in canonical text. */
function maskAddress(address: string, family: AddressFamily, prefix: number): string {
  const bytes = toBytes(canonical(address, family), family);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  if (family === 'ipv4') return bytes.join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return canonical(groups.join(':'), 'ipv6');
}

function toBytes(address: string, family: AddressFamily): number[] {
  if (family === 'ipv4') return address.split('.').map(Number);
  // Canonical IPv6 text: at most one "::", possibly a dotted IPv4 tail.
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const [a, b, c, d] = dotted.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}
