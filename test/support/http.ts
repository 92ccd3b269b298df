/** Plain REST helpers for end-to-end specs; pass an API token to call guarded routes. */
function headers(token?: string, json = false): Record<string, string> {
  return {
    ...(json ? { 'content-type': 'application/json' } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

export async function postJson(
  url: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', headers: headers(token, true), body: JSON.stringify(body) });
  return { status: res.status, json: await res.json().catch(() => null) };
}

export async function getJson(url: string, token?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { headers: headers(token) });
  return { status: res.status, json: await res.json().catch(() => null) };
}

export async function request(
  method: string,
  url: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method,
    headers: headers(token, body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface StudyView {
  status: string;
  statusReason: string | null;
  roundsDone: number;
  epsilonSpent: number | null;
}

/** Polls GET /studies/:id until the study completes; a paused or failed study fails the wait at once, with its reason. */
export function waitForStudyCompletion(
  coordinatorUrl: string,
  studyId: string,
  timeoutMs: number,
  token?: string,
): Promise<StudyView> {
  return waitFor(
    `study ${studyId} to complete`,
    async () => {
      const s = (await getJson(`${coordinatorUrl}/studies/${studyId}`, token)).json as StudyView;
      if (s.status === 'paused' || s.status === 'failed')
        throw new Error(`study ${s.status}: ${s.statusReason}`);
      return s.status === 'completed' ? s : undefined;
    },
    timeoutMs,
  );
}
