/**
 * MQTT packet sizes checked on the wire, before the MQTT parser buffers anything: each packet's
 * fixed header announces its remaining length, so an oversized packet is refused from its first
 * bytes — before authentication for CONNECT — instead of after the parser has collected (and
 * held in memory) hundreds of megabytes. aedes has no such limit of its own.
 */
import type { ClientCertificate } from './client-certificate.ts';
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

export type GuardViolation = { reason: 'packet_too_large'; type: number; announced: number; limit: number } | { reason: 'malformed_length' | 'first_not_connect'; type: number };

/** A pure scanner over the byte stream of one connection. */
export class PacketSizeGuard {
  private state: 'type' | 'length' | 'body' = 'type';
  private type = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private packets = 0;

  private readonly limits: { connectBytes: number; packetBytes: number };

  constructor(limits: { connectBytes: number; packetBytes: number }) {
    this.limits = limits;
  }

  /**
   * Feeds the next chunk; a violation as soon as a header shows one (the connection is then closed).
   * `publishAt` hears the offset in this chunk of each PUBLISH packet's first byte (for pacing).
   */
  feed(chunk: Uint8Array, publishAt?: (offset: number) => void): GuardViolation | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const byte = chunk[i++]!;
      if (this.state === 'type') {
        this.type = byte >> 4;
        if (this.type === 3 && this.packets > 0) publishAt?.(i - 1);
        if (this.packets === 0 && this.type !== 1) return { reason: 'first_not_connect', type: this.type };
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      // Remaining length: up to four bytes of seven bits each, lowest first (MQTT 3.1.1 §2.2.3).
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return { reason: 'malformed_length', type: this.type };
        continue;
      }
      const limit = this.packets === 0 ? this.limits.connectBytes : this.limits.packetBytes;
      if (this.length > limit) return { reason: 'packet_too_large', type: this.type, announced: this.length, limit };
      this.packets++;
      this.remaining = this.length;
      this.state = this.remaining > 0 ? 'body' : 'type';
    }
    return undefined;
  }
}

/** Paces a logged-in device's publishes: ms to wait before its next one may be read (0 = now, the token taken). */
export type PublishPacer = () => number;

/**
 * The socket as aedes sees it, with the guard in front of its reads. Reading pauses when aedes
 * stops reading (backpressure passes through to TCP), and — once the login set a pacer — when the
 * device is over its rate: the chunk is cut before the first PUBLISH it has no token for, the
 * rest (at most one socket read) waits here, the socket is paused, and the device's backlog stays
 * in the kernel's buffers and on the device instead of in parsed packets on the heap.
 */
export class GuardedConnection extends Duplex {
  readonly socket: Socket;
  /** The client certificate the TLS handshake established, if any (read by the login). */
  clientCertificate: ClientCertificate | undefined;
  /** Set by the login: from then on, PUBLISH packets are paced by the device's rate. */
  pacer: PublishPacer | undefined;
  /** Told each time a publish has to wait for its token, with the wait. */
  onPaced: ((waitMs: number) => void) | undefined;
  /** Bytes scanned but not yet handed on: the rest of a chunk that waits for a token. */
  private held: { chunk: Buffer; publishes: number[] } | undefined;
  private holdTimer: NodeJS.Timeout | undefined;
  private wantsData = true;
  private ended = false;

  constructor(socket: Socket, guard: PacketSizeGuard, onViolation: (v: GuardViolation) => void) {
    super();
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      const publishes: number[] = [];
      const v = guard.feed(chunk, this.pacer ? (at) => publishes.push(at) : undefined);
      if (v) {
        onViolation(v);
        socket.destroy();
        return;
      }
      this.pass(chunk, publishes);
    });
    socket.on('end', () => {
      if (this.held) this.ended = true; // handed on after what is held
      else this.push(null);
    });
    // Writes go to the socket itself (write()): so does waiting for it to take more.
    socket.on('drain', () => this.emit('drain'));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  /** Hands `chunk` on up to the first publish without a token; holds the rest until one is due. */
  private pass(chunk: Buffer, publishes: number[]): void {
    let cut = -1;
    let waitMs = 0;
    for (let k = 0; k < publishes.length && this.pacer; k++) {
      waitMs = this.pacer();
      if (waitMs > 0) {
        cut = k;
        break;
      }
    }
    const now = cut < 0 ? chunk : chunk.subarray(0, publishes[cut]);
    if (now.length > 0 && !this.push(now)) this.wantsData = false;
    if (cut < 0) {
      if (!this.wantsData) this.socket.pause();
      return;
    }
    const at = publishes[cut]!;
    this.held = { chunk: chunk.subarray(at), publishes: publishes.slice(cut).map((p) => p - at) };
    this.socket.pause();
    this.onPaced?.(waitMs);
    this.holdTimer = setTimeout(() => this.release(), waitMs);
  }

  private release(): void {
    this.holdTimer = undefined;
    const h = this.held;
    this.held = undefined;
    if (!h || this.destroyed) return;
    this.pass(h.chunk, h.publishes);
    if (this.held) return;
    if (this.ended) this.push(null);
    else if (this.wantsData) this.socket.resume();
  }

  override _read(): void {
    this.wantsData = true;
    if (!this.held) this.socket.resume();
  }

  /**
   * Writes go straight to the socket, not through this stream's own buffer. mqtt-packet writes a
   * packet as several small chunks (a PUBACK: type, length, id) inside a cork it lifts on the next
   * tick; corking the socket itself lets Node send them — and every other packet written to this
   * device in that tick — in one system call (writev), and spares each PUBACK a second stream's
   * queue, callbacks and copy. Without a cork each chunk was a system call of its own, the
   * gateway's largest cost (a profile at 7,500 PUBACKs/s: 18 % of its CPU in socket writes).
   */
  override write(chunk: unknown, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean {
    return typeof encoding === 'function' ? this.socket.write(chunk as Buffer, encoding) : this.socket.write(chunk as Buffer, encoding as BufferEncoding, cb);
  }

  override cork(): void {
    this.socket.cork();
  }

  override uncork(): void {
    this.socket.uncork();
  }

  /** What reaches the stream's own write path all the same (`end(chunk)`). */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.holdTimer);
    this.held = undefined;
    this.socket.destroy();
    cb(err);
  }
}
