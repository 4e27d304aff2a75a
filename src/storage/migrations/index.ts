import { InitialSchema1764000000000 } from './0001-initial-schema.ts';
import { AccountSecurity1764100000000 } from './0002-account-security.ts';
import { SessionControl1764200000000 } from './0003-session-control.ts';
import { Saml1764300000000 } from './0004-saml.ts';
import { Federation1764400000000 } from './0005-federation.ts';
import { Directory1764500000000 } from './0006-directory.ts';
import { Ownership1764600000000 } from './0007-ownership.ts';
import { AccessRules1764900000000 } from './0010-access-rules.ts';
import { AuditIndexes1764700000000 } from './0008-audit-indexes.ts';
import { ApplicationSecrets1764800000000 } from './0009-application-secrets.ts';
import { UserSearchIndexes1765000000000 } from './0011-user-search-indexes.ts';
import { TimeWindowsDelegation1765100000000 } from './0012-time-windows-delegation.ts';
import { EmergencyAccess1765200000000 } from './0013-emergency-access.ts';
import { ApiKeys1765300000000 } from './0014-api-keys.ts';
import { NetworkRules1765400000000 } from './0015-network-rules.ts';
import { AccessReviews1765500000000 } from './0016-access-reviews.ts';
import { ApprovalChains1765600000000 } from './0017-approval-chains.ts';

export const migrations = [InitialSchema1764000000000, AccountSecurity1764100000000, SessionControl1764200000000, Saml1764300000000, Federation1764400000000, Directory1764500000000, Ownership1764600000000, AuditIndexes1764700000000, ApplicationSecrets1764800000000, AccessRules1764900000000, UserSearchIndexes1765000000000, TimeWindowsDelegation1765100000000, EmergencyAccess1765200000000, ApiKeys1765300000000, NetworkRules1765400000000, AccessReviews1765500000000, ApprovalChains1765600000000];
