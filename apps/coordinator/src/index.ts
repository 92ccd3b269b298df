/** What end-to-end tests and the demo use to run a coordinator in-process. */
export { startCoordinator, type RunningCoordinator } from './coordinator';
export { CoordinatorConfig, coordinatorConfigFromEnv } from './config/coordinator-config';
export { RoundEvents, type RoundEvent } from './rounds/round-events';
export { resolveDatabaseTarget, openDatabase, type OpenDatabase } from './database/database-adapter';
export { DATABASE } from './core/tokens';
export { spawnAgent, stopAgent } from './demo/spawn-agent';
export { demoStudyInput } from './demo/demo-study';
