import pg from 'pg';
import { childLogger } from './logger';
import { UpdateRejectedError } from './errors';
import { httpStatusOf, toErrorBody } from './error-body';

const log = childLogger('error-body-spec');

describe('error bodies', () => {
  it("passes a fedseg error's code and message through", () => {
    expect(toErrorBody(new UpdateRejectedError('ROUND_CLOSED', 'Round 2 is aggregating.'), log)).toEqual({
      code: 'ROUND_CLOSED',
      message: 'Round 2 is aggregating.',
    });
  });

  it('says UNAVAILABLE (503, try again) when the database cannot be reached, so agents keep their result', async () => {
    const client = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:1/none' });
    const refused = await client.connect().then(
      () => null,
      (e: unknown) => e,
    );
    const body = toErrorBody(refused, log);
    expect(body.code).toBe('UNAVAILABLE');
    expect(body.message).toMatch(/nothing was stored/);
    expect(httpStatusOf(body.code)).toBe(503);
  });

  it('hides any other failure behind INTERNAL (500)', () => {
    const body = toErrorBody(new Error('secret detail'), log);
    expect(body).toEqual({
      code: 'INTERNAL',
      message: 'The coordinator failed to handle this request; its log has the details.',
    });
    expect(httpStatusOf(body.code)).toBe(500);
  });
});
