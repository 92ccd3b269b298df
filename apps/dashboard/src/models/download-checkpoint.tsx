import type { Api } from '../api';

/** Lower-case hex SHA-256 of the bytes, or null where the page has no WebCrypto (plain http off localhost). */
async function sha256Hex(data: ArrayBuffer): Promise<string | null> {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', data));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Fetches a checkpoint with the caller's token (a plain link could not send it), checks its SHA-256 against
 * the one the checkpoint list gave, and hands it to the browser as a file. A mismatch saves nothing.
 */
export async function downloadCheckpoint(
  api: Api,
  study: { id: string; name: string },
  round: number,
  expectedSha256: string,
): Promise<{ verified: boolean; fileName: string }> {
  const { data } = await api.bytes(`/studies/${study.id}/model?round=${round}`);
  const actual = await sha256Hex(data);
  if (actual !== null && actual !== expectedSha256)
    throw new Error(
      `Round ${round}'s model arrived with SHA-256 ${actual}, not ${expectedSha256}; nothing saved.`,
    );
  const slug =
    study.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'study';
  const fileName = `fedseg-${slug}-round-${round}.fsw`;
  const url = URL.createObjectURL(new Blob([data], { type: 'application/octet-stream' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: fileName });
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked after the click has been handled, or some browsers lose the download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { verified: actual !== null, fileName };
}
