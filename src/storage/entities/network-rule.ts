// A network rule, as stored (migration 0015): the ranges a tenant (roleId null) or a role may be
// used from. Read and written through storage/queries/network-rules.ts.

export interface NetworkRule {
  id: string;
  tenantId: string;
  /** null: the tenant-wide rule (sign-in and refresh); else the role it restricts in tokens. */
  roleId: string | null;
  /** Normalised CIDR ranges, IPv4 and IPv6 ("10.20.0.0/16", "2001:db8:5::/48"). */
  ranges: string[];
  description: string | null;
  /** Who set it last, as "<actor type>:<id>". */
  updatedBy: string;
  updatedAt: Date;
}

/** A place a person has signed in from: a device (hash of its cookie) or an address neighbourhood. */
export interface SignInPlace {
  userId: string;
  kind: 'device' | 'range';
  value: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
}
