import { z } from 'zod';

/**
 * The global model's way to a site, pulled in chunks. A task names the model by the sha256 it signs
 * (`globalSha256`); the coordinator sends a ModelOffer beside it, the size. The agent asks for the chunks it
 * lacks (`model:chunk`, several in flight), writes them to its disk, and accepts the model only when the
 * whole hashes to the signed sha256. A site that holds that digest asks for nothing. Each chunk is one
 * socket message well below the coordinator's message cap, which the trust model relies on.
 */
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex');

/** Largest chunk a site may ask for: half the coordinator's default 1 MiB message cap. */
export const MODEL_CHUNK_MAX_BYTES = 512 * 1024;
export const DEFAULT_MODEL_CHUNK_BYTES = 256 * 1024;
/** Largest global model a site takes (it is written to the site's disk). */
export const MAX_MODEL_BYTES = 4 * 1024 * 1024 * 1024;

/** coordinator -> agent, the second argument of a `task` message: the model the task runs on. */
export const ModelOffer = z.strictObject({
  sha256: Sha256Hex,
  bytes: z.int().min(1).max(MAX_MODEL_BYTES),
});
export type ModelOffer = z.infer<typeof ModelOffer>;

/** agent -> coordinator: one chunk of an offered model, `chunkBytes` fixed for the whole download. */
export const ModelChunkRequest = z.strictObject({
  sha256: Sha256Hex,
  index: z.int().min(0),
  chunkBytes: z.int().min(1024).max(MODEL_CHUNK_MAX_BYTES),
});
export type ModelChunkRequest = z.infer<typeof ModelChunkRequest>;

/** The ack of a `model:chunk`: the bytes as a binary attachment. */
export const ModelChunkReply = z.object({
  ok: z.literal(true),
  index: z.int().min(0),
  bytes: z.instanceof(Uint8Array, { message: 'expected the chunk as a binary attachment' }),
});
export type ModelChunkReply = z.infer<typeof ModelChunkReply>;

/** The ack of an `update:begin`: the chunk count and, for a transfer resumed after a reconnect, where to go on. */
export const UpdateBeginReply = z.object({
  ok: z.literal(true),
  chunks: z.int().min(1),
  resumeFrom: z.int().min(0),
});
export type UpdateBeginReply = z.infer<typeof UpdateBeginReply>;
