// Rejected sign-in attempts: what a password guess costs the server when Caregate refuses it, next to
// what a full sign-in costs. Two refusals, each decided before the password is checked
// (src/security/lockout.ts, src/interactions/password-login.ts):
//   - account_locked: the account reached `lockout.threshold` consecutive failures. The form answers
//     exactly as for a wrong password, so the refusal still spends one argon2 verification
//     (hasher.burn) to take as long as one;
//   - address_throttled: the client address made `addressThrottle.maxFailures` failed attempts in the
//     window. The form answers 429 with Retry-After, and no hash is computed.
// Each attempt is a real POST of the login form of a live interaction, with its cookies and CSRF
// token: a failed sign-in re-renders the form of the same interaction, so every virtual user keeps
// posting to one. Every answer is checked (status, the same message as a wrong password, a fresh
// form), and afterwards the audit log must hold one login.failure with the expected reason and client
// address for every attempt sent. Throttled attempts come from 127.0.0.2, so the throttle never
// reaches the 127.0.0.1 the other measurements use.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdminApi, type AuditEventJson } from './admin-api.ts';
import type { CaregateInstance } from './caregate-instance.ts';
import { closedLoop, type LoopOptions } from './closed-loop.ts';
import { openLoginForm, type OpenLoginForm } from './login-flow.ts';
import type { Figure } from './stats.ts';

export type Rejection = 'account_locked' | 'address_throttled';

/** The client address the throttled attempts come from (any 127/8 address reaches a 127.0.0.1 listener on Linux). */
export const THROTTLED_ADDRESS = '127.0.0.2';
const LOCKED_ADDRESS = '127.0.0.1';

/** Audit log entries written while a figure ran, against the attempts sent (warm-up included). */
export interface AuditCheck {
  /** POSTs sent, in and out of the measured window. */
  attempts: number;
  /** login.failure events with the expected reason, from the expected client address. */
  matching: number;
  /** Anything else, by "action reason ip" (and a real account whose failure count moved): should be empty. */
  unexpected: Record<string, number>;
}

export interface RejectedResult {
  rejection: Rejection;
  figure: Figure;
  /** The HTTP status every measured answer had. */
  status: number;
  clientAddress: string;
  audit: AuditCheck;
}

/** The tenant policy the rejections run under, as the admin API reported it after the change. */
export interface RejectionPolicy {
  lockout: { threshold: number; mode: string };
  addressThrottle: { maxFailures: number; windowSeconds: number };
}

interface Answer {
  status: number;
  retryAfter?: string;
  /** The form's error message (role="alert"), if any. */
  alert?: string;
  hasForm: boolean;
  body: string;
}

// Numbers normalised: the throttle's message counts down the minutes left ("Try again in 129 minutes").
const alertOf = (html: string) => /role="alert"[^>]*>([^<]*)</.exec(html)?.[1]?.trim().replace(/\d+/g, '#');

/** POSTs the login form with the browser's cookies, over `agent`'s keep-alive connections (and its local address). */
function postLogin(agent: http.Agent, form: OpenLoginForm, username: string, password: string): Promise<Answer> {
  const body = new URLSearchParams({ ...form.fields, username, password }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      form.action,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body), cookie: form.jar.header(), accept: 'text/html' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          form.jar.storeLines(res.headers['set-cookie'] ?? []);
          const html = Buffer.concat(chunks).toString('utf8');
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter, alert: alertOf(html), hasForm: html.includes('name="csrf"') && html.includes('name="password"'), body: html });
        });
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', reject);
    req.end(body);
  });
}

const guess = () => `guess-${randomBytes(9).toString('base64url')}`;

function describe(a: Answer): string {
  return `HTTP ${a.status}${a.alert ? ` "${a.alert}"` : ''}${a.hasForm ? '' : ' (no login form)'}${a.alert || a.hasForm ? '' : ` ${a.body.slice(0, 160)}`}`;
}

/** What a refused attempt must look like: the wrong-password page, or the throttle's 429 page. */
interface Expected {
  status: number;
  alert: string;
  retryAfter: boolean;
}

function check(step: string, a: Answer, e: Expected) {
  if (a.status !== e.status || a.alert !== e.alert || !a.hasForm || (e.retryAfter && !a.retryAfter)) {
    throw new Error(`${step}: expected HTTP ${e.status} "${e.alert}" with the login form${e.retryAfter ? ' and Retry-After' : ''}, got ${describe(a)}`);
  }
}

const key = (e: AuditEventJson) => `${e.action} ${e.details?.reason ?? '-'} ${e.ip ?? '-'}`;

function auditCheck(events: AuditEventJson[], attempts: number, reason: Rejection, address: string): AuditCheck {
  const unexpected: Record<string, number> = {};
  let matching = 0;
  for (const e of events) {
    if (e.action === 'login.failure' && e.details?.reason === reason && e.ip === address) matching++;
    else unexpected[key(e)] = (unexpected[key(e)] ?? 0) + 1;
  }
  return { attempts, matching, unexpected };
}

/** The newest login.failure since `seq` must carry `reason` (a one-off check before measuring). */
async function expectAuditReason(admin: AdminApi, seq: bigint, reason: Rejection, address: string) {
  const failure = (await admin.auditSince(seq)).find((e) => e.action === 'login.failure');
  if (failure?.details?.reason !== reason || failure.ip !== address) {
    throw new Error(`audit: expected login.failure reason ${reason} from ${address}, found ${failure ? key(failure) : 'no login.failure'}`);
  }
}

export interface Rejections {
  policy: RejectionPolicy;
  measure(rejection: Rejection, load: LoopOptions & { connections: number }): Promise<RejectedResult>;
}

/**
 * Prepares both refusals on a running instance: sets the policy (admin lock mode, so the lock holds
 * however long the run; a day-long throttle window, so it does not roll over mid-figure), locks
 * `cg.lockedUser` with `threshold` wrong passwords, and throttles THROTTLED_ADDRESS with failures
 * against an unknown name. Each step is checked through the admin API and the audit log.
 */
export async function prepareRejections(cg: CaregateInstance, load: { seconds: number; warmupSeconds: number }, progress: (line: string) => void): Promise<Rejections> {
  const admin = new AdminApi(cg.admin);
  const policy = await admin.call<RejectionPolicy>('PATCH', '/policy', { lockout: { mode: 'admin' }, addressThrottle: { windowSeconds: 86_400 } });
  const { threshold } = policy.lockout;
  const { maxFailures } = policy.addressThrottle;

  const local = new http.Agent({ keepAlive: true, localAddress: LOCKED_ADDRESS });
  const throttledAgent = new http.Agent({ keepAlive: true, localAddress: THROTTLED_ADDRESS });
  try {
    progress(`locking ${cg.lockedUser.username} with ${threshold} wrong passwords (lockout.threshold)`);
    const form = await openLoginForm(cg.web);
    // The wrong-password page is the reference a locked account's answer must equal.
    const first = await postLogin(local, form, cg.lockedUser.username, guess());
    if (first.status < 400 || !first.alert || !first.hasForm) throw new Error(`wrong password: expected the login form with an error, got ${describe(first)}`);
    const wrongPassword: Expected = { status: first.status, alert: first.alert, retryAfter: false };
    for (let i = 1; i < threshold; i++) check(`wrong password ${i + 1}/${threshold}`, await postLogin(local, form, cg.lockedUser.username, guess()), wrongPassword);
    const state = await admin.lockState(cg.lockedUser.username);
    if (!state.lock.locked) throw new Error(`${cg.lockedUser.username} is not locked after ${threshold} wrong passwords: ${JSON.stringify(state.lock)}`);
    let seq = await admin.newestAuditSeq();
    // The right password too is refused: the lock, not the password, decides.
    check('locked account, right password', await postLogin(local, form, cg.lockedUser.username, cg.lockedUser.password), wrongPassword);
    await expectAuditReason(admin, seq, 'account_locked', LOCKED_ADDRESS);

    progress(`throttling ${THROTTLED_ADDRESS}: ${maxFailures} failures with an unknown name (addressThrottle.maxFailures)`);
    // The window is fixed (aligned to the epoch): it must outlast both figures, or the address would
    // be let through again mid-measurement.
    const needed = 2 * (load.warmupSeconds + load.seconds) + 30;
    let throttledPage: Expected | undefined;
    let waited = false;
    while (!throttledPage) {
      const unknown = `nobody.${randomBytes(6).toString('hex')}`;
      let refused: Answer | undefined;
      for (let i = 0; i <= maxFailures && !refused; i++) {
        const a = await postLogin(throttledAgent, form, unknown, guess());
        if (a.status === 429) refused = a;
        else check(`failure ${i + 1} from ${THROTTLED_ADDRESS}`, a, wrongPassword);
      }
      if (!refused) throw new Error(`${THROTTLED_ADDRESS} is not throttled after ${maxFailures + 1} failures`);
      if (!refused.alert || !refused.hasForm || !refused.retryAfter) throw new Error(`throttled: expected the login form with an error and Retry-After, got ${describe(refused)}`);
      if (Number(refused.retryAfter) < needed && !waited) {
        progress(`the throttle window ends in ${refused.retryAfter} s, before the figures would; waiting for the next one`);
        await sleep((Number(refused.retryAfter) + 1) * 1000);
        waited = true;
        continue;
      }
      throttledPage = { status: 429, alert: refused.alert, retryAfter: true };
    }
    seq = await admin.newestAuditSeq();
    check('throttled address, real account', await postLogin(throttledAgent, form, cg.user.username, guess()), throttledPage);
    await expectAuditReason(admin, seq, 'address_throttled', THROTTLED_ADDRESS);
    const expected: Record<Rejection, { page: Expected; address: string; username: string }> = {
      account_locked: { page: wrongPassword, address: LOCKED_ADDRESS, username: cg.lockedUser.username },
      // Guesses at the real account: the throttle answers before the account's counter is touched.
      address_throttled: { page: throttledPage, address: THROTTLED_ADDRESS, username: cg.user.username },
    };

    return {
      policy,
      async measure(rejection, load) {
        const { page, address, username } = expected[rejection];
        const agent = new http.Agent({ keepAlive: true, localAddress: address });
        try {
          // One interaction per virtual user; a refused POST leaves it open for the next.
          const forms = await Promise.all(Array.from({ length: load.connections }, () => openLoginForm(cg.web)));
          const seq = await admin.newestAuditSeq();
          let attempts = 0;
          const result = await closedLoop(forms, load, async (form) => {
            attempts++;
            check(rejection, await postLogin(agent, form, username, guess()), page);
          });
          const audit = auditCheck(await admin.auditSince(seq), attempts, rejection, address);
          if (rejection === 'address_throttled') {
            // The throttle stood in front of the account: its failure count never moved.
            const account = await admin.lockState(cg.user.username);
            if (account.lock.failures !== 0 || account.lock.locked) audit.unexpected[`${cg.user.username} failures ${account.lock.failures}`] = 1;
          }
          return { rejection, figure: result.figure, status: page.status, clientAddress: address, audit };
        } finally {
          agent.destroy();
        }
      },
    };
  } finally {
    local.destroy();
    throttledAgent.destroy();
  }
}
