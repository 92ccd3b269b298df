import { MessageChannel } from 'node:worker_threads';
import { movable } from './compute-messages';

describe('movable', () => {
  it('moves a buffer the view spans, and only such a buffer', () => {
    const whole = new Uint8Array(16);
    expect(movable(whole)).toEqual([whole.buffer]);
    // A slice of a larger buffer (a pooled Buffer's neighbours) or shared memory is copied, not moved.
    expect(movable(new Uint8Array(16).subarray(4))).toEqual([]);
    expect(movable(Buffer.from('small'))).toEqual([]);
    expect(movable(new Uint8Array(new SharedArrayBuffer(8)))).toEqual([]);
  });

  it('leaves the sender a detached view and the receiver the bytes, uncopied', async () => {
    const { port1, port2 } = new MessageChannel();
    const sent = Uint8Array.from([1, 2, 3, 4]);
    const received = new Promise<Uint8Array>((resolve) => port2.once('message', resolve));
    port1.postMessage(sent, movable(sent));
    expect(sent.byteLength).toBe(0);
    expect(Array.from(await received)).toEqual([1, 2, 3, 4]);
    port1.close();
  });
});
