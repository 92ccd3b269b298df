/**
 * The browser's entry to @fedseg/protocol: only the schemas a web page needs, none of which imports node:
 * modules or tweetnacl (the dashboard's Vite build aliases `@fedseg/protocol/web` to this file).
 */
export * from './study-replies';
export * from './site-replies';
export * from './user-replies';
export * from './round-events';
export * from './dashboard-events';
export * from './error-reply';
