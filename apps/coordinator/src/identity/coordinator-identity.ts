import fs from 'node:fs';
import path from 'node:path';
import {
  SecretIdentity,
  generateIdentity,
  keyFingerprint,
  publicPart,
  type PublicIdentity,
} from '@fedseg/protocol';

export interface CoordinatorIdentity {
  secret: SecretIdentity;
  public: PublicIdentity;
  /** What site admins compare out of band when they enroll. */
  fingerprint: string;
}

/**
 * The coordinator's own keys: it signs every task and global model with one and receives encrypted updates
 * with the other. Made on first start and kept in a file only its user can read; sites pin the public half.
 */
export function loadOrCreateCoordinatorIdentity(file: string): CoordinatorIdentity {
  let secret: SecretIdentity;
  if (fs.existsSync(file)) {
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077)
      throw new Error(
        `The coordinator key file ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it.`,
      );
    const parsed = SecretIdentity.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`The coordinator key file ${file} is not a fedseg identity.`);
    secret = parsed.data;
  } else {
    secret = generateIdentity();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secret, null, 2), { mode: 0o600, flag: 'wx' });
  }
  const pub = publicPart(secret);
  return { secret, public: pub, fingerprint: keyFingerprint(pub) };
}
