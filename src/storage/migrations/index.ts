import { InitialSchema1764000000000 } from './0001-initial-schema.ts';

export const migrations = [InitialSchema1764000000000];
