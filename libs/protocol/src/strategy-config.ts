import { z } from 'zod';

/** How the coordinator combines site updates. libs/aggregation implements each. */
export const StrategyConfig = z.discriminatedUnion('name', [z.object({ name: z.literal('fedavg') })]);
export type StrategyConfig = z.infer<typeof StrategyConfig>;
