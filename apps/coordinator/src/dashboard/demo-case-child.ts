import { DemoCaseRequest, type DemoCaseReply } from './demo-case-contract';
import { renderDemoCase } from './demo-case-render';

/**
 * The demo case's inference in a child process (demo-case.service.ts forks one per render): tfjs lives only
 * here, so the coordinator's own process never loads it (issue 19's lean coordinator), and seconds of cpu
 * backend work never stall its sockets. One render, one reply, then exit; also exit when the coordinator
 * goes away (the IPC channel closes), so no orphan keeps running.
 */
const send = process.send?.bind(process);
if (!send) throw new Error('demo-case-child.ts runs only as a forked child (see demo-case.service.ts)');
const reply = (message: DemoCaseReply): void => {
  send(message, undefined, {}, () => process.disconnect());
};
process.once('disconnect', () => process.exit(0));
process.once('message', (raw: unknown) => {
  const input = DemoCaseRequest.safeParse(raw);
  if (!input.success) return reply({ ok: false, message: `off-contract request: ${input.error.message}` });
  renderDemoCase(input.data).then(
    (out) => reply({ ok: true, out }),
    (err: unknown) => reply({ ok: false, message: err instanceof Error ? err.message : String(err) }),
  );
});
