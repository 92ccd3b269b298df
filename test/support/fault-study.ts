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
  overrides: Omit<Partial<StudyConfigInput>, 'model' | 'training'> & {
    rounds: number;
    minSites: number;
    /** Merged into the tiny model (a bigger one for multi-chunk updates). */
    model?: { baseFilters?: number; depth?: number };
    training?: { epochs?: number };
  },
): StudyConfigInput {
  const { model, training, ...rest } = overrides;
  return {
    name: 'fault suite',
    roundDeadlineMs: 60_000,
    evaluationDeadlineMs: 30_000,
    siteWaitMs: 120_000,
    ...rest,
    model: { architecture: 'unet3d', numClasses: 3, baseFilters: 2, depth: 2, ...model },
    training: { epochs: 1, batchSize: 2, patchSize: [16, 16, 16], seed: 9, ...training },
  };
}

/** Enrolled sites with phantom data, and their agents as child processes (by pid). */
export interface FaultSites {
  sites: string[];
  /** The running agent of each site (the latest spawn). */
  agents: Map<string, ChildProcess>;
  /** Starts a site's agent (again, after a kill). */
  spawn(site: string): ChildProcess;
  /** SIGKILL by pid; resolves once it is gone. */
  killAgent(site: string): Promise<void>;
  /** Waits until a site's log has a line matching `pattern`; returns the log so far. */
  waitForLog(site: string, pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface FaultStudy extends FaultSites {
  studyId: string;
  /** What every site's log says the coordinator acknowledged for this study. */
  acks(): AckedUpdate[];
  /** Polls the study until `probe` says yes (GET /studies/:id); a paused or failed study it does not accept fails the wait. */
  waitForStudy(what: string, probe: (s: StudyState) => boolean, timeoutMs?: number): Promise<StudyState>;
}

export interface StudyState {
  status: string;
  statusReason: string | null;
  roundsDone: number;
}

export async function startFaultSites(
  fed: FederationClient,
  options: {
    sites: number;
    prefix?: string;
    dataSeed?: number;
    /** More `fedseg-agent run` flags for a site (a later --coordinator wins: a proxy in front of it, say). */
    agentArgs?: (site: string) => string[];
  },
): Promise<FaultSites> {
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
  const agents = new Map<string, ChildProcess>();
  return {
    sites,
    agents,
    spawn(site) {
      const child = fed.spawn(site, dirOf.get(site)!, [
        '--backend',
        'cpu',
        ...(options.agentArgs?.(site) ?? []),
      ]);
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
    waitForLog: (site, pattern, timeoutMs = 120_000) =>
      waitFor(
        `${site}'s log to match ${pattern}`,
        async () => {
          const log = fs.existsSync(fed.logOf(site)) ? fs.readFileSync(fed.logOf(site), 'utf8') : '';
          return pattern.test(log) ? log : undefined;
        },
        timeoutMs,
        20,
      ),
  };
}

/** Creates, approves (every site) and starts a study on enrolled sites. */
export async function createFaultStudy(
  fed: FederationClient,
  sites: FaultSites,
  config: StudyConfigInput,
): Promise<FaultStudy> {
  const studyId = await fed.createStudy(config);
  await fed.approve(studyId, sites.sites);
  await fed.startStudy(studyId);
  return {
    ...sites,
    studyId,
    acks: () =>
      sites.sites.flatMap((site) =>
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
}

/** Enrolls sites, starts a study on them and every agent. */
export async function startFaultStudy(
  fed: FederationClient,
  options: Parameters<typeof startFaultSites>[1] & { config: StudyConfigInput },
): Promise<FaultStudy> {
  const sites = await startFaultSites(fed, options);
  const study = await createFaultStudy(fed, sites, options.config);
  for (const site of sites.sites) sites.spawn(site);
  return study;
}
