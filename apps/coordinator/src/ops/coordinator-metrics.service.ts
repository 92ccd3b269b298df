import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RoundEvents } from '../rounds/round-events';
import { SiteRegistry } from '../sites/site-registry.service';

/**
 * What an operator's Prometheus scrapes at GET /metrics: rounds by outcome, updates and their sizes, round
 * durations, connected sites, refused messages, and the process's own metrics. Counted from the round events
 * and the site registry the coordinator already has, so nothing on the round path waits for it.
 */
@Injectable()
export class CoordinatorMetrics implements OnApplicationShutdown {
  readonly registry = new Registry();
  private readonly rounds = new Counter({
    name: 'fedseg_rounds_total',
    help: 'Rounds that ended, by outcome (completed, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly roundsStarted = new Counter({
    name: 'fedseg_rounds_started_total',
    help: 'Rounds started.',
    registers: [this.registry],
  });
  private readonly updates = new Counter({
    name: 'fedseg_updates_total',
    help: 'Site updates accepted.',
    registers: [this.registry],
  });
  readonly bytesIn = new Counter({
    name: 'fedseg_update_bytes_received_total',
    help: 'Bytes of accepted site updates, as received (sealed chunks).',
    registers: [this.registry],
  });
  readonly bytesOut = new Counter({
    name: 'fedseg_model_bytes_sent_total',
    help: 'Bytes of global models sent with tasks.',
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'fedseg_refused_messages_total',
    help: 'Agent messages refused, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly roundSeconds = new Histogram({
    name: 'fedseg_round_duration_seconds',
    help: 'Round start to completion.',
    buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [this.registry],
  });
  private readonly started = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(events: RoundEvents, sites: SiteRegistry) {
    collectDefaultMetrics({ register: this.registry, prefix: 'fedseg_coordinator_' });
    new Gauge({
      name: 'fedseg_connected_sites',
      help: 'Sites connected and identified now.',
      registers: [this.registry],
      collect() {
        this.set(sites.list().length);
      },
    });
    this.unsubscribe = events.subscribe((e) => {
      const key = `${e.studyId}:${'round' in e ? e.round : ''}`;
      if (e.type === 'round-started') {
        this.roundsStarted.inc();
        this.started.set(key, performance.now());
      } else if (e.type === 'update-received') this.updates.inc();
      else if (e.type === 'round-completed' || e.type === 'round-failed') {
        this.rounds.inc({ outcome: e.type === 'round-completed' ? 'completed' : 'failed' });
        const t0 = this.started.get(key);
        if (t0 !== undefined) this.roundSeconds.observe((performance.now() - t0) / 1000);
        this.started.delete(key);
      }
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe();
  }
}
