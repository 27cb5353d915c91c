/**
 * Tickets for the PAM steps after authentication. sshd authenticates in a
 * separate process and carries only the PAM environment to the one that calls
 * pam_acct_mgmt and pam_setcred; anyone can put a variable there. So a
 * successful authentication hands the bridge a random ticket bound to the
 * user and the PAM service, and those steps ask us whether it is real. Kept
 * in memory by hash, for a few minutes, bounded in number.
 */
import { randomBytes } from 'node:crypto';
import { secretHash } from '../shared/secret-hash.js';

/** sshd calls acct_mgmt at once and setcred when the session starts: minutes, not hours. */
export const TICKET_TTL_MS = 10 * 60_000;
const MAX_TICKETS = 10_000;

export class TicketBook {
  private readonly tickets = new Map<string, { user: string; service: string; expires: number }>();

  /** A monotonic clock: a step of the wall clock neither lengthens nor shortens a ticket's life. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  issue(user: string, service: string): string {
    const ticket = randomBytes(32).toString('hex');
    this.prune();
    if (this.tickets.size >= MAX_TICKETS) this.tickets.delete(this.tickets.keys().next().value!); // the oldest
    this.tickets.set(secretHash(ticket), { user, service, expires: this.now() + TICKET_TTL_MS });
    return ticket;
  }

  /** Is this the ticket of a successful authentication of `user` for `service`, not yet expired? */
  confirm(ticket: string, user: string, service: string): boolean {
    if (!/^[0-9a-f]{64}$/.test(ticket)) return false;
    const entry = this.tickets.get(secretHash(ticket));
    return entry !== undefined && entry.expires > this.now() && entry.user === user && entry.service === service;
  }

  /** Tickets are kept in the order they expire (one TTL for all): only the oldest can have expired. */
  private prune(): void {
    const now = this.now();
    for (const [key, entry] of this.tickets) {
      if (entry.expires > now) return;
      this.tickets.delete(key);
    }
  }
}
