import { FedsegError } from './errors';

/**
 * The bookkeeping of a transfer in fixed-size chunks, both ends, with no I/O: socket.io's emit has no
 * backpressure and delivers at most once, so the sender keeps a window of unacknowledged chunks and the
 * receiver remembers which it stored. After a reconnect both resume from the contiguous prefix the receiver
 * holds. Every refusal is a TransferError with a stable code and leaves the state as it was.
 */
export class TransferError extends FedsegError {}

/** Most chunks one transfer may have (a 4 GiB model in 4 KiB chunks). */
export const MAX_CHUNKS = 1_048_576;

export function chunkCount(totalBytes: number, chunkBytes: number): number {
  return Math.ceil(totalBytes / chunkBytes);
}

/** Where chunk `index` lies in a transfer of `totalBytes`; refuses an index past the end. */
export function chunkRange(
  totalBytes: number,
  chunkBytes: number,
  index: number,
): { offset: number; length: number } {
  const chunks = chunkCount(totalBytes, chunkBytes);
  if (!Number.isInteger(index) || index < 0 || index >= chunks)
    throw new TransferError('BAD_CHUNK', `Chunk ${index} is outside 0..${chunks - 1}.`);
  const offset = index * chunkBytes;
  return { offset, length: Math.min(chunkBytes, totalBytes - offset) };
}

function checkCount(chunks: number): void {
  if (!Number.isInteger(chunks) || chunks < 1 || chunks > MAX_CHUNKS)
    throw new TransferError('BAD_TRANSFER', `A transfer has 1..${MAX_CHUNKS} chunks, not ${chunks}.`);
}

const enum Slot {
  Missing = 0,
  InFlight = 1,
  Done = 2,
}

/**
 * Sender (or puller) side: which chunk to send next with at most `window` unacknowledged, which are done.
 * `take` hands out the lowest chunk neither done nor in flight; `ack` marks one done; `release` puts one back
 * (its request failed, e.g. the connection dropped) so it is sent again.
 */
export class ChunkWindow {
  private readonly slots: Uint8Array;
  private readonly inFlight = new Set<number>();
  private cursor = 0;
  private doneCount = 0;

  constructor(
    readonly chunks: number,
    readonly window: number,
  ) {
    checkCount(chunks);
    if (!Number.isInteger(window) || window < 1)
      throw new TransferError('BAD_TRANSFER', `The window is at least 1 chunk, not ${window}.`);
    this.slots = new Uint8Array(chunks);
  }

  get complete(): boolean {
    return this.doneCount === this.chunks;
  }

  get acknowledged(): number {
    return this.doneCount;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** How many chunks from the start are all done: where a resumed transfer starts. */
  get prefix(): number {
    return this.cursor;
  }

  take(): number | undefined {
    if (this.inFlight.size >= this.window) return undefined;
    for (let i = this.cursor; i < this.chunks; i++) {
      if (this.slots[i] === Slot.Missing) {
        this.slots[i] = Slot.InFlight;
        this.inFlight.add(i);
        return i;
      }
    }
    return undefined;
  }

  ack(index: number): void {
    if (!this.inFlight.has(index))
      throw new TransferError(
        'UNEXPECTED_ACK',
        `Chunk ${index} was not in flight; an acknowledgement for it is a duplicate or unknown.`,
      );
    this.inFlight.delete(index);
    this.slots[index] = Slot.Done;
    this.doneCount++;
    while (this.cursor < this.chunks && this.slots[this.cursor] === Slot.Done) this.cursor++;
  }

  release(index: number): void {
    if (!this.inFlight.delete(index)) return;
    this.slots[index] = Slot.Missing;
  }

  releaseAll(): void {
    for (const i of [...this.inFlight]) this.release(i);
  }

  /**
   * The receiver says it holds exactly chunks 0..prefix-1 (after a reconnect): those are done, anything this
   * side counted as done past it is sent again. Only while nothing is in flight.
   */
  resumeAt(prefix: number): void {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > this.chunks)
      throw new TransferError('BAD_CHUNK', `Resume point ${prefix} is outside 0..${this.chunks}.`);
    if (this.inFlight.size > 0)
      throw new TransferError('TRANSFER_BUSY', 'Cannot resume while chunks are in flight.');
    this.slots.fill(Slot.Done, 0, prefix);
    this.slots.fill(Slot.Missing, prefix);
    this.doneCount = prefix;
    this.cursor = prefix;
  }
}

/**
 * Receiver side: which chunks are stored, which are being stored. `claim` refuses a chunk out of range or
 * already stored or in progress, before any byte is written; `settle` records it stored, `abandon` forgets
 * the claim (its write failed or it did not open). A claim made before a `rewind` is stale: settling or
 * abandoning it changes nothing, so a write still finishing for a dropped connection cannot count.
 */
export class ChunkLedger {
  private readonly slots: Uint8Array;
  private storedCount = 0;
  private cursor = 0;
  private generation = 0;

  constructor(readonly chunks: number) {
    checkCount(chunks);
    this.slots = new Uint8Array(chunks);
  }

  get stored(): number {
    return this.storedCount;
  }

  get complete(): boolean {
    return this.storedCount === this.chunks;
  }

  /** How many chunks from the start are all stored. */
  get prefix(): number {
    return this.cursor;
  }

  /** Returns the claim's generation, to give back to `settle` or `abandon`. */
  claim(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.chunks)
      throw new TransferError('BAD_CHUNK', `Chunk ${index} is outside 0..${this.chunks - 1}.`);
    if (this.slots[index] === Slot.Done)
      throw new TransferError('DUPLICATE_CHUNK', `Chunk ${index} arrived twice; it is already stored.`);
    if (this.slots[index] === Slot.InFlight)
      throw new TransferError('DUPLICATE_CHUNK', `Chunk ${index} arrived twice; it is being stored.`);
    this.slots[index] = Slot.InFlight;
    return this.generation;
  }

  /** Records a claimed chunk as stored; false (and no change) when the claim went stale in a rewind. */
  settle(index: number, generation: number): boolean {
    if (generation !== this.generation) return false;
    if (this.slots[index] !== Slot.InFlight)
      throw new TransferError('UNEXPECTED_CHUNK', `Chunk ${index} was not being stored.`);
    this.slots[index] = Slot.Done;
    this.storedCount++;
    while (this.cursor < this.chunks && this.slots[this.cursor] === Slot.Done) this.cursor++;
    return true;
  }

  abandon(index: number, generation: number): void {
    if (generation === this.generation && this.slots[index] === Slot.InFlight)
      this.slots[index] = Slot.Missing;
  }

  /**
   * A sender resuming after a reconnect re-sends everything from the prefix on: chunks stored past it are
   * forgotten (they will be written again, at the same place). Returns the prefix.
   */
  rewind(): number {
    this.generation++;
    for (let i = this.cursor; i < this.chunks; i++) {
      if (this.slots[i] === Slot.Done) this.storedCount--;
      this.slots[i] = Slot.Missing;
    }
    return this.cursor;
  }
}

/**
 * Runs `window` until every chunk is acknowledged or a request fails: `send(index)` resolving acknowledges
 * that chunk, rejecting releases it. After the first failure no new chunk starts; once the requests in flight
 * settle, the failure is thrown and the window holds exactly what was acknowledged, so running it again
 * (after a reconnect) goes on from there.
 */
export async function runWindow(window: ChunkWindow, send: (index: number) => Promise<void>): Promise<void> {
  let failed = false;
  let failure: unknown;
  await new Promise<void>((resolve) => {
    let active = 0;
    const pump = (): void => {
      if (!failed)
        for (let index = window.take(); index !== undefined; index = window.take()) {
          const i = index;
          active++;
          send(i)
            .then(
              () => window.ack(i),
              (err: unknown) => {
                window.release(i);
                if (!failed) failure = err;
                failed = true;
              },
            )
            .finally(() => {
              active--;
              pump();
            });
        }
      if (active === 0) resolve();
    };
    pump();
  });
  if (failed) throw failure;
}
