import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';

/** What happened in a study, announced after it was persisted (live views, the demo, the dashboard). */
export type RoundEvent =
  | { type: 'round-started'; studyId: string; round: number; siteIds: string[]; deadlineAt: string }
  | {
      type: 'update-received';
      studyId: string;
      round: number;
      siteId: string;
      samples: number;
      trainLoss: number;
    }
  | {
      type: 'task-progress';
      studyId: string;
      round: number;
      siteId: string;
      epoch: number;
      epochs: number;
      step: number;
      steps: number;
      loss?: number;
    }
  | { type: 'round-aggregated'; studyId: string; round: number; sites: number; trainLoss: number | null }
  | {
      type: 'metrics-received';
      studyId: string;
      round: number;
      siteId: string;
      metrics: Record<string, number>;
    }
  | {
      type: 'round-completed';
      studyId: string;
      round: number;
      sites: number;
      trainLoss: number | null;
      valDice: number | null;
    }
  | { type: 'round-failed'; studyId: string; round: number; reason: string }
  | { type: 'study-status'; studyId: string; status: string; reason: string | null };

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
