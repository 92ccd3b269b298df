const USAGE = `fedseg-agent: the fedseg site agent

  fedseg-agent enroll --coordinator URL --token fset_… --site NAME   register this site's keys (once)
  fedseg-agent approve --study ID [--yes | --plan-hash HASH]          review and approve a study's plan
  fedseg-agent run --data DIR [--backend auto|tensorflow|webgpu|wasm|cpu] [--memory-mb N]
  fedseg-agent check-data DIR
  fedseg-agent fingerprint --data DIR [--memory-mb N]                 print this site's data fingerprint (JSON)

Every verb takes --home DIR (default ~/.fedseg-agent, or FEDSEG_AGENT_HOME): where the site's keys live.

Add --verbose for stack traces.`;

type Command = (argv: string[], io: { out(line: string): void; err(line: string): void }) => Promise<number>;

// Loaded on demand: `run` pulls in tfjs, `check-data` does not need it.
const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run')).runCommand,
  enroll: async () => (await import('./commands/enroll')).enrollCommand,
  approve: async () => (await import('./commands/approve')).approveCommand,
  'check-data': async () => (await import('./commands/check-data')).checkDataCommand,
  fingerprint: async () => (await import('./commands/fingerprint')).fingerprintCommand,
};

async function main(): Promise<number> {
  const [verb, ...rest] = process.argv.slice(2);
  const io = { out: (line: string) => console.log(line), err: (line: string) => console.error(line) };
  if (!verb || verb === 'help' || verb === '--help') {
    io.out(USAGE);
    return verb ? 0 : 2;
  }
  const load = commands[verb];
  if (!load) {
    io.err(`fedseg-agent: unknown command "${verb}"\n\n${USAGE}`);
    return 2;
  }
  return (await load())(rest, io);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fedseg-agent: ${err instanceof Error ? err.message : String(err)}`);
    if (process.argv.includes('--verbose') && err instanceof Error) console.error(err.stack);
    process.exit(1);
  },
);
