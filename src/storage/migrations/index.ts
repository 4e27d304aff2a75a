import { InitialSchema1764000000000 } from './0001-initial-schema.ts';
import { AccountSecurity1764100000000 } from './0002-account-security.ts';

export const migrations = [InitialSchema1764000000000, AccountSecurity1764100000000];
