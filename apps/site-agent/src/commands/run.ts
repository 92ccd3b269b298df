import { z } from 'zod';
import { describeKernels, initBackend } from '@fedseg/models';
import { AgentClient } from '../agent-client';
import { RunOptions, runOptionsFrom } from '../agent-options';
import { consoleLog } from '../console-log';
import { loadSiteData } from '../site-data';
import { TaskExecutor } from '../task-executor';
import { AgentHome, defaultAgentHome } from '../identity-store';

export const AGENT_VERSION = '0.1.0';

/** `fedseg-agent run`: connect, take tasks, train on local data until Ctrl-C. */
export async function runCommand(
  argv: string[],
  io: { out(line: string): void; err(line: string): void },
): Promise<number> {
  const parsed = RunOptions.safeParse(runOptionsFrom(argv, process.env));
  if (!parsed.success) {
    io.err(`fedseg-agent run: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
    io.err('usage: fedseg-agent run --data DIR [--backend auto|tensorflow|webgpu|wasm|cpu] [--home DIR]');
    return 2;
  }
  const options = parsed.data;
  const home = new AgentHome(options.home ?? defaultAgentHome());
  const identity = home.loadIdentity();
  if (options.site && options.site !== identity.siteName) {
    io.err(
      `fedseg-agent run: ${home.dir} holds site ${identity.siteName}'s identity, not ${options.site}'s.`,
    );
    return 2;
  }
  const coordinator = options.coordinator ?? identity.coordinatorUrl;
  const log = consoleLog(identity.siteName, options);
  // Echo the configuration (nothing here is secret; file names stay local).
  log.info(
    `fedseg-agent ${AGENT_VERSION}: site ${identity.siteName}, coordinator ${coordinator} (key ${identity.coordinatorFingerprint}), data ${options.data}, backend ${options.backend}, ` +
      `validation ${Math.round(options.valFraction * 100)}%, up to ${options.maxConcurrentStudies} studies at once`,
  );
  const backend = await initBackend(options.backend);
  log.info(`compute backend: ${backend.name}${backend.adapter ? ` (${backend.adapter})` : ''}`);
  log.info(`kernels: ${describeKernels()}`);
  for (const s of backend.skipped) log.info(`  skipped ${s.backend}: ${s.reason}`);
  const data = await loadSiteData(options.data, { valFraction: options.valFraction, seed: options.seed });
  log.info(`data: ${data.train.length} training and ${data.val.length} validation case(s)`);
  const executor = new TaskExecutor(data, log, { site: identity.siteName, dumpUpdates: options.dumpUpdates });
  const client = new AgentClient(
    {
      coordinator,
      identity,
      home,
      backend,
      maxConcurrentStudies: options.maxConcurrentStudies,
      dataSummary: { trainCases: data.train.length, valCases: data.val.length },
      agentVersion: AGENT_VERSION,
    },
    executor,
    log,
  );
  client.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info(`${signal}: finishing the current write, then stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await client.close();
  executor.dispose();
  return 0;
}
