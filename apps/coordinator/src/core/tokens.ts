/** Nest injection tokens for the values the core module provides. */
export const COORDINATOR_CONFIG = Symbol('COORDINATOR_CONFIG');
export const DATABASE = Symbol('DATABASE');
export const PRISMA = Symbol('PRISMA');
export const BLOB_STORE = Symbol('BLOB_STORE');
