import { runAgentCommand } from './spawn-agent';

/**
 * What a hospital's admin does to join and consent, run through the real `fedseg-agent` CLI: an admin
 * issues a one-time enrollment token per site, the site enrolls with it, then approves a study's plan.
 * Shared by the demo, the benchmarks that run whole federations, and the end-to-end tests.
 */
export type Echo = (site: string, line: string) => void;

async function agentStep(args: string[], site: string, echo?: Echo): Promise<void> {
  const run = await runAgentCommand(args);
  if (echo) for (const line of run.stdout.trim().split('\n').filter(Boolean)) echo(site, line);
  if (run.code !== 0)
    throw new Error(
      `fedseg-agent ${args[0]} for ${site} failed (exit ${run.code}): ${run.stderr.trim() || run.stdout.trim()}`,
    );
}

export async function enrollSites(options: {
  url: string;
  adminToken: string;
  sites: readonly string[];
  homeOf: (site: string) => string;
  echo?: Echo;
}): Promise<void> {
  await Promise.all(
    options.sites.map(async (site) => {
      const res = await fetch(`${options.url}/enrollment-tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.adminToken}` },
        body: JSON.stringify({ siteName: site }),
      });
      const issued = (await res.json()) as { token: string; expiresAt: string };
      if (res.status !== 201)
        throw new Error(`enrollment token for ${site} refused: ${JSON.stringify(issued)}`);
      options.echo?.(
        site,
        `admin issued a one-time enrollment token (expires ${issued.expiresAt.slice(0, 16)}Z)`,
      );
      await agentStep(
        [
          'enroll',
          '--coordinator',
          options.url,
          '--token',
          issued.token,
          '--site',
          site,
          '--home',
          options.homeOf(site),
        ],
        site,
        options.echo,
      );
    }),
  );
}

export async function approveStudy(options: {
  studyId: string;
  sites: readonly string[];
  homeOf: (site: string) => string;
  echo?: Echo;
}): Promise<void> {
  await Promise.all(
    options.sites.map((site) =>
      agentStep(
        ['approve', '--study', options.studyId, '--yes', '--home', options.homeOf(site)],
        site,
        options.echo,
      ),
    ),
  );
}
