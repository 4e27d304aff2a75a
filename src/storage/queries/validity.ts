// "Not expired", in SQL: the one home of the rule for rows with an optional end (OIDC payloads,
// action links). In memory the same rule is `hasExpired` in src/authz.

/** The row still holds at the statement's time: no end, or an end still to come. */
export const notExpired = (column: string) => `(${column} IS NULL OR ${column} > now())`;

/** The row's end has come (a row without one never expires). */
export const expired = (column: string) => `${column} <= now()`;
