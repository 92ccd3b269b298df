import crypto from 'node:crypto';

/**
 * Task ids are derived, not random: after a coordinator restart the same (study, round, site, kind)
 * gets the same id, so an agent recognises a task it is already working on and never trains twice.
 */
export function taskIdFor(
  studyId: string,
  round: number,
  siteId: string,
  kind: 'train' | 'evaluate',
): string {
  const h = crypto.createHash('sha256').update(`${studyId}/${round}/${siteId}/${kind}`).digest('hex');
  // Shape it as an RFC 4122 version-5-style UUID so it validates as one everywhere.
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
