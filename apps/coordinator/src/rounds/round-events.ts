import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { RoundEvent } from '@fedseg/protocol';

/** The RoundEvent schema lives in @fedseg/protocol (round-events.ts): the dashboard parses the same shape. */
export type { RoundEvent } from '@fedseg/protocol';

/** Announces what happened in a study after it was persisted (live views, the demo, the dashboard). */
@Injectable()
export class RoundEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(1000);
  }

  emit(event: RoundEvent): void {
    this.emitter.emit('event', event);
  }

  subscribe(listener: (event: RoundEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}
