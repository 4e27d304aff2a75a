// The `break_glass` claim: a token carrying roles taken in an emergency says so, with the reason
// given and when the emergency grant ends, so applications can show a banner and log it.

export interface BreakGlassClaim {
  reason: string;
  /** When the emergency grant ends, in seconds since the epoch (as `exp`). */
  exp: number;
}

/**
 * From the assignments shaping a token: the break-glass grant that lasts longest (its reason and
 * end), or undefined when none does.
 */
export function breakGlassClaim(contributing: ReadonlyArray<{ breakGlass?: { reason: string } | null; expiresAt: Date | null }>): BreakGlassClaim | undefined {
  let last: { reason: string; end: number } | undefined;
  for (const a of contributing) {
    if (!a.breakGlass || !a.expiresAt) continue;
    if (!last || a.expiresAt.getTime() > last.end) last = { reason: a.breakGlass.reason, end: a.expiresAt.getTime() };
  }
  return last && { reason: last.reason, exp: Math.floor(last.end / 1000) };
}
