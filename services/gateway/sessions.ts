/**
 * Persistent MQTT sessions (clean=false) are kept for a while after their device disconnects —
 * that is what they are for — but not forever and not without bound: each expires
 * `expiryMs` after its disconnect, and a device keeps at most `maxPerDevice` of them (the
 * oldest goes first). aedes keeps sessions until told otherwise; `forget` tells it.
 */
export class SessionExpiry {
  /** Per device: its persistent client ids, oldest first, with the expiry timer of each offline one. */
  private byDevice = new Map<string, Map<string, NodeJS.Timeout | undefined>>();

  private readonly o: { expiryMs: number; maxPerDevice: number };
  private readonly forget: (clientId: string) => void;

  constructor(o: { expiryMs: number; maxPerDevice: number }, forget: (clientId: string) => void) {
    this.o = o;
    this.forget = forget;
  }

  connected(deviceId: string, clientId: string, clean: boolean): void {
    const sessions = this.byDevice.get(deviceId) ?? new Map<string, NodeJS.Timeout | undefined>();
    clearTimeout(sessions.get(clientId));
    sessions.delete(clientId);
    if (!clean) sessions.set(clientId, undefined);
    // Over the cap: the oldest sessions go (a live one is only forgotten once it disconnects).
    for (const [id] of sessions) {
      if (sessions.size <= this.o.maxPerDevice) break;
      if (id === clientId) continue;
      this.expire(deviceId, id);
    }
    if (sessions.size > 0) this.byDevice.set(deviceId, sessions);
  }

  disconnected(deviceId: string, clientId: string): void {
    const sessions = this.byDevice.get(deviceId);
    if (!sessions?.has(clientId)) return;
    clearTimeout(sessions.get(clientId));
    const t = setTimeout(() => this.expire(deviceId, clientId), this.o.expiryMs);
    t.unref();
    sessions.set(clientId, t);
  }

  /** Persistent sessions remembered now (for the metric). */
  get size(): number {
    let n = 0;
    for (const s of this.byDevice.values()) n += s.size;
    return n;
  }

  close(): void {
    for (const s of this.byDevice.values()) for (const t of s.values()) clearTimeout(t);
    this.byDevice.clear();
  }

  private expire(deviceId: string, clientId: string): void {
    const sessions = this.byDevice.get(deviceId);
    if (!sessions) return;
    clearTimeout(sessions.get(clientId));
    sessions.delete(clientId);
    if (sessions.size === 0) this.byDevice.delete(deviceId);
    this.forget(clientId);
  }
}
