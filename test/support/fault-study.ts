import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { generateConsortium } from '@fedseg/imaging';
import type { StudyConfigInput } from '@fedseg/protocol';
import type { FederationClient } from './federation';
import { waitFor } from './http';
import { acksFromAgentLog, type AckedUpdate } from './recompute-checkpoints';

/**
 * The federation the fault suite, `npm run chaos` and `npm run soak` break: a tiny 3D U-Net on 16^3 phantoms,
 * plain FedAvg on the cpu backend with a fixed seed, so an uninterrupted run and an interrupted one must end
 * with the same weights bit for bit.
 */
export function faultStudyConfig(
  overrides: Partial<StudyConfigInput> & { rounds: number; minSites: number },
): StudyConfigInput {
  return {
    name: 'fault suite',
    model: { architecture: 'unet3d', numClasses: 3, baseFilters: 2, depth: 2 },
    training: { epochs: 1, batchSize: 2, patchSize: [16, 16, 16], seed: 9 },
    roundDeadlineMs: 60_000,
    evaluationDeadlineMs: 30_000,
    siteWaitMs: 120_000,
    ...overrides,
  };
}

export interface FaultStudy {
  studyId: string;
  sites: string[];
  /** The running agent of each site (the latest spawn). */
  agents: Map<string, ChildProcess>;
  /** Starts a site's agent (again, after a kill). */
  spawn(site: string): ChildProcess;
  /** SIGKILL by pid; resolves once it is gone. */
  killAgent(site: string): Promise<void>;
  /** What every site's log says the coordinator acknowledged. */
  acks(): AckedUpdate[];
  /** Polls the study until `probe` says yes (GET /studies/:id); a paused or failed study it does not accept fails the wait. */
  waitForStudy(what: string, probe: (s: StudyState) => boolean, timeoutMs?: number): Promise<StudyState>;
}

export interface StudyState {
  status: string;
  statusReason: string | null;
  roundsDone: number;
}

export async function startFaultStudy(
  fed: FederationClient,
  options: {
    sites: number;
    config: StudyConfigInput;
    /** Sites whose agents are not started here. */
    hold?: readonly string[];
    prefix?: string;
    dataSeed?: number;
  },
): Promise<FaultStudy> {
  const { siteDirs } = await generateConsortium({
    outDir: path.join(fed.work, 'sites'),
    sites: options.sites,
    casesPerSite: 3,
    shape: [16, 16, 16],
    seed: options.dataSeed ?? 4,
  });
  const sites = siteDirs.map((_, i) => `${options.prefix ?? 'fault'}-${String(i + 1).padStart(2, '0')}`);
  const dirOf = new Map(sites.map((s, i) => [s, siteDirs[i]!]));
  await fed.enroll(sites);
  const studyId = await fed.createStudy(options.config);
  await fed.approve(studyId, sites);
  await fed.startStudy(studyId);
  const agents = new Map<string, ChildProcess>();
  const study: FaultStudy = {
    studyId,
    sites,
    agents,
    spawn(site) {
      const child = fed.spawn(site, dirOf.get(site)!, ['--backend', 'cpu']);
      agents.set(site, child);
      return child;
    },
    async killAgent(site) {
      const child = agents.get(site);
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGKILL');
      await gone;
    },
    acks: () =>
      sites.flatMap((site) =>
        fs.existsSync(fed.logOf(site))
          ? acksFromAgentLog(site, fs.readFileSync(fed.logOf(site), 'utf8'), studyId)
          : [],
      ),
    waitForStudy: (what, probe, timeoutMs = 120_000) =>
      waitFor(
        what,
        async () => {
          const res = await fed.get(`/studies/${studyId}`).catch(() => undefined);
          const s = res?.status === 200 ? (res.json as StudyState) : undefined;
          if (!s) return undefined;
          if (probe(s)) return s;
          if (s.status === 'paused' || s.status === 'failed')
            throw new Error(`waiting for ${what}: the study is ${s.status} (${s.statusReason})`);
          return undefined;
        },
        timeoutMs,
        200,
      ),
  };
  for (const site of sites) if (!options.hold?.includes(site)) study.spawn(site);
  return study;
}
