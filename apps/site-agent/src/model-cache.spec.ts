import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelCache } from './model-cache';

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

describe("the agent's model cache", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-models-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps a model written in chunks out of order once it hashes to its digest', async () => {
    const cache = new ModelCache(dir);
    const model = new Uint8Array(crypto.randomBytes(2500));
    const part = await cache.open(sha(model), model.length);
    for (const at of [2000, 0, 1000]) await part.write(at, model.subarray(at, at + 1000));
    await part.finish();
    expect(await cache.has(sha(model), model.length)).toBe(true);
    expect(Buffer.from(await cache.read(sha(model))).equals(Buffer.from(model))).toBe(true);
  });

  it('refuses bytes that do not hash to the signed digest, and keeps nothing', async () => {
    const cache = new ModelCache(dir);
    const model = new Uint8Array(crypto.randomBytes(2048));
    const part = await cache.open(sha(model), model.length);
    const altered = new Uint8Array(model);
    altered[7]! ^= 1;
    await part.write(0, altered);
    await expect(part.finish()).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    expect(await cache.has(sha(model), model.length)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('refuses a chunk that runs past the model', async () => {
    const cache = new ModelCache(dir);
    const part = await cache.open('ab'.repeat(32), 100);
    await expect(part.write(90, new Uint8Array(20))).rejects.toMatchObject({ code: 'BAD_CHUNK' });
    await part.discard();
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
