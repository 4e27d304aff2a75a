// "Not expired" and "in effect", in SQL: the one home of the rules for rows with an optional start
// and end (OIDC payloads, action links, assignments) and for accounts that may act. In memory the
// same rules are `hasExpired` / `inEffect` in src/authz and `canSignIn` in src/accounts.

/** The row still holds at the statement's time: no end, or an end still to come. */
export const notExpired = (column: string) => `(${column} IS NULL OR ${column} > now())`;

/** The row's end has come (a row without one never expires). */
export const expired = (column: string) => `${column} <= now()`;

/** The row holds now: started (or no start) and not expired (`inEffect` in memory). `alias` is the table's alias. */
export const inEffectNow = (alias: string) => `(${alias}.starts_at IS NULL OR ${alias}.starts_at <= now()) AND ${notExpired(`${alias}.expires_at`)}`;

/** The account may sign in or act now: active and not past its end (`canSignIn` in memory). */
export const accountMayAct = (alias: string) => `${alias}.status = 'active' AND ${notExpired(`${alias}.expires_at`)}`;
