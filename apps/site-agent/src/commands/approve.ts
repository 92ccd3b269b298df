import readline from 'node:readline/promises';
import { z } from 'zod';
import {
  AgentEvents,
  PlanReply,
  describePlan,
  planHash,
  signPlanApproval,
  type PlanApproval,
} from '@fedseg/protocol';
import { agentSocket, connected } from '../agent-socket';
import { ApproveOptions, optionsFrom } from '../agent-options';
import { AgentHome, defaultAgentHome } from '../identity-store';

type Io = { out(line: string): void; err(line: string): void };
const AckReply = z
  .object({ ok: z.boolean(), error: z.object({ code: z.string(), message: z.string() }).optional() })
  .passthrough();

/**
 * `fedseg-agent approve --study ID`: shows the study's plan (what would train here and what would leave),
 * and on the admin's yes records the plan hash locally and sends a signed approval. The agent trains only for
 * plans approved here; a changed plan needs a new approval.
 */
export async function approveCommand(argv: string[], io: Io): Promise<number> {
  const parsed = ApproveOptions.safeParse(optionsFrom(argv, process.env));
  if (!parsed.success) {
    io.err(`fedseg-agent approve: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
    io.err('usage: fedseg-agent approve --study ID [--yes] [--plan-hash HASH] [--home DIR]');
    return 2;
  }
  const options = parsed.data;
  const home = new AgentHome(options.home ?? defaultAgentHome());
  const identity = home.loadIdentity();
  const socket = agentSocket(identity, options.coordinator ?? identity.coordinatorUrl);
  socket.io.opts.reconnection = false;
  try {
    await connected(socket);
    const got = await socket.timeout(15_000).emitWithAck(AgentEvents.planGet, { studyId: options.study });
    const ack = AckReply.parse(got);
    if (!ack.ok) {
      io.err(`fedseg-agent approve: ${ack.error?.message} (${ack.error?.code})`);
      return 1;
    }
    const reply = PlanReply.parse(got);
    // Never trust the coordinator's hash: recompute it from the plan shown.
    const hash = planHash(reply.plan);
    if (hash !== reply.planHash) {
      io.err('fedseg-agent approve: the coordinator sent a plan whose hash does not match it; refusing.');
      return 1;
    }
    io.out(`plan of study ${options.study} (status ${reply.status}), hash ${hash}:`);
    for (const line of describePlan(reply.plan)) io.out(`  ${line}`);
    if (options.planHash && options.planHash !== hash) {
      io.err(
        `fedseg-agent approve: the plan's hash is ${hash}, not the ${options.planHash} you gave; not approved.`,
      );
      return 1;
    }
    if (!options.yes) {
      if (!process.stdin.isTTY) {
        io.err(
          'fedseg-agent approve: review the plan above, then run again with --yes (or --plan-hash HASH) to approve it.',
        );
        return 1;
      }
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question('approve this plan for this site? [y/N] ');
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        io.out('not approved; nothing was recorded');
        return 1;
      }
    }
    const approval: PlanApproval = {
      studyId: options.study,
      siteId: identity.siteId,
      planHash: hash,
      approvedAt: new Date().toISOString(),
    };
    home.recordApproval(options.study, hash);
    const sent = AckReply.parse(
      await socket
        .timeout(15_000)
        .emitWithAck(AgentEvents.planApprove, signPlanApproval(approval, identity.keys.signingSecretKey)),
    );
    if (!sent.ok) {
      io.err(
        `fedseg-agent approve: the coordinator refused the approval: ${sent.error?.message} (${sent.error?.code})`,
      );
      return 1;
    }
    io.out(`approved plan ${hash.slice(0, 16)}… of study ${options.study} for site ${identity.siteName}`);
    return 0;
  } finally {
    socket.close();
  }
}
