import { z } from 'zod';
import { AgentClient } from '../agent-client';
import { RunOptions, runOptionsFrom } from '../agent-options';
import { consoleLog } from '../console-log';
import { ComputeThread } from '../compute/compute-thread';
import { AgentHome, defaultAgentHome } from '../identity-store';
import { describeRoute } from '../agent-socket';
import { parseProxySettings } from '../proxy-route';

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
  // --proxy travels as FEDSEG_PROXY, the variable agentSocket reads (AgentClient builds the socket).
  if (options.proxy) process.env.FEDSEG_PROXY = options.proxy.href;
  let route: string;
  try {
    route = describeRoute(coordinator, parseProxySettings(process.env));
  } catch (err) {
    io.err(`fedseg-agent run: ${(err as Error).message}`);
    return 2;
  }
  const log = consoleLog(identity.siteName, options);
  // Echo the configuration (nothing here is secret; file names stay local).
  log.info(
    `fedseg-agent ${AGENT_VERSION}: site ${identity.siteName}, coordinator ${coordinator} (key ${identity.coordinatorFingerprint}), data ${options.data}, backend ${options.backend}, ` +
      `validation ${Math.round(options.valFraction * 100)}%, up to ${options.maxConcurrentStudies} studies at once`,
  );
  log.info(`network: ${route}`);
  // tfjs and the volumes live in a worker thread; this thread keeps the socket (heartbeats, acks) responsive.
  const { thread, backend, kernels, trainCases, valCases } = await ComputeThread.start(
    {
      data: options.data,
      valFraction: options.valFraction,
      seed: options.seed,
      backend: options.backend,
      site: identity.siteName,
      dumpUpdates: options.dumpUpdates,
    },
    log,
  );
  log.info(`compute backend: ${backend.name}${backend.adapter ? ` (${backend.adapter})` : ''}`);
  log.info(`kernels: ${kernels}`);
  for (const s of backend.skipped) log.info(`  skipped ${s.backend}: ${s.reason}`);
  log.info(`data: ${trainCases} training and ${valCases} validation case(s)`);
  const client = new AgentClient(
    {
      coordinator,
      identity,
      home,
      backend,
      maxConcurrentStudies: options.maxConcurrentStudies,
      dataSummary: { trainCases, valCases },
      agentVersion: AGENT_VERSION,
      memoryMb: options.memoryMb,
      chunkBytes: options.chunkBytes,
    },
    thread,
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
  await thread.close();
  return 0;
}
