/** What end-to-end tests and the demo use to run a coordinator in-process. */
export { startCoordinator, type RunningCoordinator } from './coordinator';
export { CoordinatorConfig, coordinatorConfigFromEnv } from './config/coordinator-config';
export { RoundEvents, type RoundEvent } from './rounds/round-events';
export { resolveDatabaseTarget, openDatabase, type OpenDatabase } from './database/database-adapter';
export { DATABASE } from './core/tokens';
export { spawnAgent, stopAgent, runAgentCommand } from './demo/spawn-agent';
export { verifyAuditChain, auditEntryHash, type AuditEntry } from './audit/audit-chain';
export { demoStudyInput } from './demo/demo-study';
export { enrollSites, approveStudy } from './demo/demo-sites';
export {
  enrollTestSite,
  connectTestSite,
  issueEnrollmentToken,
  helloFor,
  sendWithAck,
  fetchOfferedModel,
  type TestSite,
} from './testing/test-site';
export { createThrowawayDatabase } from './testing/throwaway-database';
