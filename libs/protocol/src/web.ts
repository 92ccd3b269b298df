/**
 * The browser's entry to @fedseg/protocol: only the schemas a web page needs, none of which imports node:
 * modules or tweetnacl (the dashboard's Vite build aliases `@fedseg/protocol/web` to this file).
 */
export * from './study-replies';
export * from './site-replies';
export * from './user-replies';
export * from './enrollment-replies';
export * from './model-replies';
export * from './demo-case-replies';
export * from './round-events';
export * from './dashboard-events';
export * from './error-reply';
// The browser-safe parts of a study config, so the create-study form checks them with the server's schemas
// (StudyConfig itself pulls study-plan.ts and node:crypto; its cross-field rules come back as 400 issues).
export * from './model-config';
export * from './training-config';
export * from './strategy-config';
