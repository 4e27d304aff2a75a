// A user's second factors in the database: enrolment and confirmation of TOTP, passkeys, email and
// SMS; recovery codes (HMAC'd, each usable once); an admin's reset. The protocol work (code checks,
// WebAuthn ceremonies) lives in src/mfa; this file decides what is stored and audits every change.
import { randomUUID } from 'node:crypto';
import { NotFoundError, ValidationError } from '../errors.ts';
import { IsNull, queries, type MfaFactor, type MfaFactorType, type Repos, type Tenant, type User } from '../storage/index.ts';
import type { AccountsContext, Actor } from './context.ts';
import type { AuditDetails } from '../audit/index.ts';

export interface PasskeyData {
  credentialId: string;
  publicKey: string;
  counter: number;
  transports?: string[];
}

/** The factor as an admin or the user sees it: never a secret. */
export function publicFactor(f: MfaFactor) {
  return { id: f.id, type: f.type, name: f.name, confirmed: f.confirmedAt !== null, createdAt: f.createdAt, lastUsedAt: f.lastUsedAt };
}

export function createFactorService({ storage, audit, box }: AccountsContext, recoveryKey: Buffer, hashRecoveryCode: (key: Buffer, code: string) => string) {
  const record = (tenantId: string, actor: Actor, action: string, userId: string, details?: AuditDetails, tx?: Repos) =>
    audit.record({ tenantId, actor, action, target: { type: 'user', id: userId }, details }, tx);

  return {
    /** Confirmed factors of a user, oldest first. */
    confirmed: (userId: string) => queries.mfaFactors.confirmed(storage, userId),

    list: (userId: string) => storage.mfaFactors.find({ where: { userId }, order: { createdAt: 'ASC' } }),

    /** Starts a TOTP enrolment: the sealed secret is kept unconfirmed until the first good code. */
    async beginTotp(user: User, secret: string): Promise<MfaFactor> {
      await storage.mfaFactors.delete({ userId: user.id, type: 'totp', confirmedAt: IsNull() });
      const factor: MfaFactor = {
        id: randomUUID(), tenantId: user.tenantId, userId: user.id, type: 'totp', name: 'Authenticator app',
        secretSealed: box.seal(secret, `totp:${user.id}`), credentialId: null, data: {}, confirmedAt: null, lastUsedAt: null, createdAt: new Date(),
      };
      await storage.mfaFactors.insert(factor);
      return factor;
    },

    totpSecret: (factor: MfaFactor) => box.open(factor.secretSealed!, `totp:${factor.userId}`),

    /** Marks an enrolled factor as working (TOTP after its first code, email/SMS after a code). */
    async confirm(factor: MfaFactor, actor: Actor) {
      await storage.transaction(async (tx) => {
        await tx.mfaFactors.update({ id: factor.id }, { confirmedAt: new Date(), lastUsedAt: new Date() });
        await record(factor.tenantId, actor, 'mfa.enrol', factor.userId, { type: factor.type, factorId: factor.id }, tx);
      });
    },

    /** Email or SMS as a factor, confirmed at once (the caller proved the address with a code). */
    async addContactFactor(user: User, type: 'email' | 'sms', actor: Actor) {
      const existing = await storage.mfaFactors.findOneBy({ userId: user.id, type });
      if (existing?.confirmedAt) return existing;
      const factor: MfaFactor = {
        id: randomUUID(), tenantId: user.tenantId, userId: user.id, type, name: type === 'email' ? 'Email code' : 'Text message code',
        secretSealed: null, credentialId: null, data: {}, confirmedAt: null, lastUsedAt: null, createdAt: new Date(),
      };
      if (existing) await storage.mfaFactors.delete({ id: existing.id });
      await storage.mfaFactors.insert(factor);
      await this.confirm(factor, actor);
      return factor;
    },

    async addPasskey(user: User, passkey: PasskeyData, name: string, actor: Actor): Promise<MfaFactor> {
      const factor: MfaFactor = {
        id: randomUUID(), tenantId: user.tenantId, userId: user.id, type: 'webauthn', name: name.slice(0, 100) || 'Passkey',
        secretSealed: null, credentialId: passkey.credentialId, data: { publicKey: passkey.publicKey, counter: passkey.counter, transports: passkey.transports ?? [] },
        confirmedAt: new Date(), lastUsedAt: null, createdAt: new Date(),
      };
      await storage.transaction(async (tx) => {
        await tx.mfaFactors.insert(factor);
        await record(user.tenantId, actor, 'mfa.enrol', user.id, { type: 'webauthn', factorId: factor.id }, tx);
      });
      return factor;
    },

    /** A passkey by its credential id, with its owner (for sign-in with a passkey). */
    async passkey(tenantId: string, credentialId: string) {
      const factor = await storage.mfaFactors.findOneBy({ tenantId, credentialId, type: 'webauthn' });
      if (!factor?.confirmedAt) return undefined;
      return { userId: factor.userId, factorId: factor.id, credentialId, publicKey: factor.data.publicKey as string, counter: factor.data.counter as number, transports: factor.data.transports as string[] };
    },

    /** Records a successful use (and a passkey's new signature counter). */
    async used(factorId: string, counter?: number) {
      await queries.mfaFactors.recordUse(storage, factorId, counter);
    },

    async remove(tenant: Tenant, userId: string, factorId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const factor = await tx.mfaFactors.findOneBy({ id: factorId, userId, tenantId: tenant.id });
        if (!factor) throw new NotFoundError('that factor does not exist');
        await tx.mfaFactors.delete({ id: factorId });
        await record(tenant.id, actor, 'mfa.remove', userId, { type: factor.type, factorId }, tx);
      });
    },

    /** Admin reset: every factor and recovery code goes; the user enrols again at next sign-in. */
    async reset(tenantId: string, userId: string, actor: Actor) {
      await storage.transaction(async (tx) => {
        const removed = await tx.mfaFactors.findBy({ userId, tenantId });
        await tx.mfaFactors.delete({ userId, tenantId });
        await tx.recoveryCodes.delete({ userId, tenantId });
        await record(tenantId, actor, 'mfa.reset', userId, { removed: removed.map((f) => f.type) }, tx);
      });
    },

    /** Replaces the user's recovery codes; the plain codes are returned once and never stored. */
    async replaceRecoveryCodes(user: User, codes: string[], actor: Actor) {
      await storage.transaction(async (tx) => {
        await tx.recoveryCodes.delete({ userId: user.id });
        if (codes.length) await tx.recoveryCodes.insert(codes.map((code) => ({ id: randomUUID(), tenantId: user.tenantId, userId: user.id, codeHash: hashRecoveryCode(recoveryKey, code), usedAt: null, createdAt: new Date() })));
        await record(user.tenantId, actor, 'mfa.recovery_codes.generate', user.id, { count: codes.length }, tx);
      });
    },

    /** Uses a recovery code: atomic, so the same code cannot sign in twice. Returns codes left, or -1. */
    async useRecoveryCode(userId: string, code: string): Promise<number> {
      if (code.replace(/[\s-]/g, '').length > 64) return -1;
      if (!(await queries.mfaFactors.useRecoveryCode(storage, userId, hashRecoveryCode(recoveryKey, code)))) return -1;
      return queries.mfaFactors.recoveryCodesLeft(storage, userId);
    },

    recoveryCodesLeft: (userId: string): Promise<number> => queries.mfaFactors.recoveryCodesLeft(storage, userId),

    requireType(type: string): MfaFactorType {
      if (!['totp', 'webauthn', 'email', 'sms'].includes(type)) throw new ValidationError(`unknown factor type "${type}"`);
      return type as MfaFactorType;
    },
  };
}
export type FactorService = ReturnType<typeof createFactorService>;
