import crypto from 'node:crypto';

/**
 * API and enrollment tokens: 256 random bits, base64url, with a prefix saying what they are (so a leaked one
 * is recognisable in a log or a repository). Stored only as SHA-256: with 256 bits of entropy a slow hash
 * adds nothing, and lookup by hash stays an index scan.
 */
export function newSecretToken(prefix: 'fsat' | 'fset'): string {
  return `${prefix}_${crypto.randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}
