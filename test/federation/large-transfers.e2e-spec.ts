import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import type { StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * Transfers in chunks through a connection that breaks. One agent (a real child process) reaches the
 * coordinator through a loopback TCP relay started here, which forwards bytes both ways and, once per rule,
 * cuts every connection in place of a chosen reply of the coordinator: the 4th model chunk of the first
 * download, the 4th update-chunk acknowledgement of the first upload. The agent reconnects
 * on its own. The relay also counts the model chunks that reached the agent, so the test can tell a resumed
 * transfer (each chunk once) from a restarted one, and a model sent again from one the site already held.
 * Chunks are 1 KiB (`--chunk-bytes`), so the tiny model spans tens of them.
 */
const MODEL_CHUNK_REPLY = '"bytes":{"_placeholder":true';
const UPDATE_CHUNK_ACK = '"received":';
const ROUNDS = 2;

const study: StudyConfigInput = {
  name: 'e2e large transfers',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 3,
    baseFilters: 4,
    depth: 2,
    normalization: 'instance',
  },
  training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 5 },
  rounds: ROUNDS,
  minSites: 1,
  roundDeadlineMs: 120_000,
  siteWaitMs: 120_000,
};

interface CutRule {
  pattern: string;
  /** Cut just before the nth message holding the pattern would be forwarded. */
  nth: number;
  done: boolean;
}

/**
 * Relays TCP both ways. In the coordinator -> agent direction of a websocket (after its `101` response) it
 * forwards whole frames (server frames are unmasked: RFC 6455 section 5.2), counts the text frames holding each
 * pattern, and cuts every connection in place of a frame a rule names: each reply before it arrived whole.
 */
class CuttingRelay {
  readonly forwarded = new Map<string, number>();
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  url = '';

  constructor(
    private readonly target: { host: string; port: number },
    private readonly rules: CutRule[],
    private readonly patterns: string[],
  ) {
    this.server = net.createServer((client) => this.relay(client));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private cutAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    this.sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (data: Buffer) => upstream.write(data));
    let pending: Buffer = Buffer.alloc(0);
    let mode: 'head' | 'frames' | 'raw' = 'head';
    upstream.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      if (mode === 'head') {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        mode = pending.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101' ? 'frames' : 'raw';
        client.write(pending.subarray(0, end + 4));
        pending = pending.subarray(end + 4);
      }
      if (mode === 'raw') {
        client.write(pending);
        pending = Buffer.alloc(0);
        return;
      }
      for (;;) {
        if (pending.length < 2) return;
        const short = pending[1]! & 0x7f;
        const header = short === 126 ? 4 : short === 127 ? 10 : 2;
        if (pending.length < header) return;
        const length =
          short === 126
            ? pending.readUInt16BE(2)
            : short === 127
              ? Number(pending.readBigUInt64BE(2))
              : short;
        if (pending.length < header + length) return;
        const frame = pending.subarray(0, header + length);
        pending = pending.subarray(header + length);
        if ((frame[0]! & 0x0f) === 1) {
          const text = frame.subarray(header).toString('utf8');
          for (const p of this.patterns.filter((q) => text.includes(q))) {
            const count = (this.forwarded.get(p) ?? 0) + 1;
            const rule = this.rules.find((r) => !r.done && r.pattern === p && count >= r.nth);
            if (rule) {
              rule.done = true;
              this.cutAll(); // the network drops, mid-transfer
              return;
            }
            this.forwarded.set(p, count);
          }
        }
        client.write(frame);
      }
    });
  }
}

describe('large transfers over a connection that breaks', () => {
  let fed: Federation;
  let relay: CuttingRelay | undefined;

  beforeAll(async () => {
    fed = await startFederation({ postgres: true, prefix: 'fedseg_transfers' });
  });

  afterAll(async () => {
    await fed?.stopAgents();
    await relay?.close();
    await fed?.close();
  });

  it('resumes a cut download and a cut upload from where they stopped, and never sends a held model again, even after a restart', async () => {
    const { siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: 1,
      casesPerSite: 3,
      shape: [16, 16, 16],
      seed: 17,
    });
    await fed.enroll(['site-1']);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, ['site-1']);
    await fed.startStudy(studyId);

    const rules: CutRule[] = [
      { pattern: MODEL_CHUNK_REPLY, nth: 4, done: false },
      { pattern: UPDATE_CHUNK_ACK, nth: 4, done: false },
    ];
    const target = new URL(fed.url);
    relay = new CuttingRelay({ host: target.hostname, port: Number(target.port) }, rules, [
      MODEL_CHUNK_REPLY,
      UPDATE_CHUNK_ACK,
    ]);
    await relay.listen();
    fed.spawn('site-1', siteDirs[0]!, [
      '--coordinator',
      relay.url,
      '--backend',
      'cpu',
      '--chunk-bytes',
      '1024',
      '--val-fraction',
      '0.34',
    ]);

    const final = await fed.waitForCompletion(studyId, 150_000);
    expect(final.status).toBe('completed');
    expect(rules.every((r) => r.done)).toBe(true);

    const log = fs.readFileSync(fed.logOf('site-1'), 'utf8');
    const sizes = [...log.matchAll(/downloading global model \w+ \((\d+) bytes, (\d+) chunks\)/g)];
    // Three models: the initial one (round 1 training), round 1's (its evaluation and round 2's training),
    // round 2's (its evaluation). Each downloaded once.
    expect(sizes).toHaveLength(ROUNDS + 1);
    const chunksPerModel = Number(sizes[0]![2]);
    expect(chunksPerModel).toBeGreaterThan(8);
    expect(sizes.every((m) => Number(m[2]) === chunksPerModel)).toBe(true);

    // The download cut after 3 chunks reached the agent goes on from them: no chunk reaches it twice.
    const download =
      /resuming the download of global model \w+ at chunk (\d+)\/(\d+) \((\d+) received\)/.exec(log);
    expect(download).not.toBeNull();
    expect(Number(download![3])).toBe(3);
    expect(Number(download![1])).toBeGreaterThan(0);
    // Round 2's training runs on the model evaluated in round 1, already on the site's disk.
    expect(log).toMatch(/round 2: global model \w+ already on this site's disk; not downloaded/);
    expect(relay.forwarded.get(MODEL_CHUNK_REPLY)).toBe((ROUNDS + 1) * chunksPerModel);

    // The upload cut mid-way goes on from the chunks the coordinator stored, not from chunk 0.
    const upload = /update for study \w+ round 1: resuming the upload at chunk (\d+)\/(\d+)/.exec(log);
    expect(upload).not.toBeNull();
    expect(Number(upload![1])).toBeGreaterThan(0);
    expect(Number(upload![1])).toBeLessThan(Number(upload![2]));
    // Each round counted the site's update once.
    const updates = await fed.prisma.siteUpdate.findMany({ include: { round: true } });
    expect(updates.map((u) => u.round.index).sort()).toEqual([1, 2]);

    // The agent restarts. A second study of the same model, seed and data trains to the same bits (training is
    // deterministic): both of its models are on the site's disk by digest, and not one chunk travels.
    await fed.stopAgents();
    const again = await fed.createStudy({ ...study, name: 'e2e large transfers, again', rounds: 1 });
    await fed.approve(again, ['site-1']);
    await fed.startStudy(again);
    fed.spawn('site-1', siteDirs[0]!, [
      '--coordinator',
      relay.url,
      '--backend',
      'cpu',
      '--chunk-bytes',
      '1024',
    ]);
    expect((await fed.waitForCompletion(again, 120_000)).status).toBe('completed');
    const restarted = fs.readFileSync(fed.logOf('site-1'), 'utf8').slice(log.length);
    expect(
      restarted.match(/round 1: global model \w+ already on this site's disk; not downloaded/g),
    ).toHaveLength(2);
    expect(restarted).not.toMatch(/downloading global model/);
    expect(relay.forwarded.get(MODEL_CHUNK_REPLY)).toBe((ROUNDS + 1) * chunksPerModel);
  });
});
