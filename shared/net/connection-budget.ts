/**
 * Connections are a budget, like bytes: every socket costs a file descriptor, and a process out of
 * descriptors cannot open its log, its store or its spool. The budget caps, per listener group:
 *   - all connections together (`maxTotal`, below the process's file limit: see file-limit.ts);
 *   - connections not yet logged in ("pending") per source address (`maxPendingPerAddress`);
 *   - how long a connection may stay pending (`pendingTimeoutMs`: MQTT's CONNECT and login, an
 *     HTTP request's headers and body).
 * At the total cap the oldest pending connection is closed to make room, so idle sockets held by
 * someone without credentials can never keep a genuine device out; only when every connection is
 * logged in (bounded by the registry: devices × sessions each) is a newcomer refused.
 *
 * Pure bookkeeping over anything that can be destroyed and says when it closed (net.Socket).
 */
import type { EventEmitter } from 'node:events';

export interface BudgetedSocket extends EventEmitter {
  readonly remoteAddress?: string | undefined;
  readonly destroyed: boolean;
  destroy(): void;
}

export interface ConnectionBudgetOptions {
  maxTotal: number;
  maxPendingPerAddress: number;
  /** 0 = no deadline. */
  pendingTimeoutMs: number;
}

export type BudgetRefusal = 'total' | 'address';
export type BudgetEvent = { event: 'refused'; reason: BudgetRefusal; remote: string } | { event: 'evicted' | 'timed_out'; remote: string };

interface Entry {
  remote: string;
  timer: NodeJS.Timeout | undefined;
}

export class ConnectionBudget {
  /** Pending connections, oldest first (a Map keeps insertion order). */
  private pending = new Map<BudgetedSocket, Entry>();
  private settled = new Set<BudgetedSocket>();
  private pendingPerAddress = new Map<string, number>();

  private readonly o: ConnectionBudgetOptions;
  private readonly onEvent: (e: BudgetEvent) => void;

  constructor(o: ConnectionBudgetOptions, onEvent: (e: BudgetEvent) => void = () => undefined) {
    this.o = o;
    this.onEvent = onEvent;
  }

  get maxTotal(): number {
    return this.o.maxTotal;
  }

  get total(): number {
    return this.pending.size + this.settled.size;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Takes a new connection in (pending), or destroys it and says why. */
  admit(socket: BudgetedSocket): boolean {
    const remote = socket.remoteAddress ?? '';
    if ((this.pendingPerAddress.get(remote) ?? 0) >= this.o.maxPendingPerAddress) return this.refuse(socket, 'address', remote);
    if (this.total >= this.o.maxTotal) {
      const oldest = this.pending.keys().next();
      if (oldest.done) return this.refuse(socket, 'total', remote);
      this.onEvent({ event: 'evicted', remote: this.pending.get(oldest.value)!.remote });
      this.forget(oldest.value);
      oldest.value.destroy();
    }
    this.pend(socket, remote);
    socket.once('close', () => this.forget(socket));
    return true;
  }

  /** The connection logged in: no deadline, never evicted. */
  settle(socket: BudgetedSocket): void {
    if (!this.pending.has(socket) || socket.destroyed) return;
    this.unpend(socket);
    this.settled.add(socket);
  }

  /** The connection is pending again (an HTTP keep-alive connection between requests). */
  unsettle(socket: BudgetedSocket): void {
    if (!this.settled.delete(socket) || socket.destroyed) return;
    this.pend(socket, socket.remoteAddress ?? '');
  }

  /** Ends every deadline (shutting down). */
  close(): void {
    for (const e of this.pending.values()) clearTimeout(e.timer);
  }

  private refuse(socket: BudgetedSocket, reason: BudgetRefusal, remote: string): false {
    this.onEvent({ event: 'refused', reason, remote });
    socket.destroy();
    return false;
  }

  private timeOut(socket: BudgetedSocket): void {
    const e = this.pending.get(socket);
    if (!e) return;
    this.onEvent({ event: 'timed_out', remote: e.remote });
    this.forget(socket);
    socket.destroy();
  }

  /** Counts the connection as pending, on the login deadline. */
  private pend(socket: BudgetedSocket, remote: string): void {
    const timer = this.o.pendingTimeoutMs > 0 ? setTimeout(() => this.timeOut(socket), this.o.pendingTimeoutMs) : undefined;
    timer?.unref();
    this.pending.set(socket, { remote, timer });
    this.pendingPerAddress.set(remote, (this.pendingPerAddress.get(remote) ?? 0) + 1);
  }

  private unpend(socket: BudgetedSocket): void {
    const e = this.pending.get(socket);
    if (!e) return;
    clearTimeout(e.timer);
    this.pending.delete(socket);
    const n = (this.pendingPerAddress.get(e.remote) ?? 1) - 1;
    if (n <= 0) this.pendingPerAddress.delete(e.remote);
    else this.pendingPerAddress.set(e.remote, n);
  }

  private forget(socket: BudgetedSocket): void {
    this.unpend(socket);
    this.settled.delete(socket);
  }
}
