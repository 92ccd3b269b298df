import pg from 'pg';
import { isDatabaseUnavailable } from './unavailable';

describe('isDatabaseUnavailable', () => {
  it('recognizes a refused connection from a real pg client', async () => {
    // Port 1 on loopback: nothing listens there, so the connect is refused at once.
    const client = new pg.Client({ connectionString: 'postgresql://postgres@127.0.0.1:1/none' });
    const err = await client.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).not.toBeNull();
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it('recognizes server shutdown codes and driver-adapter wrappers, however deeply wrapped', () => {
    expect(
      isDatabaseUnavailable({
        code: '57P01',
        message: 'terminating connection due to administrator command',
      }),
    ).toBe(true);
    expect(
      isDatabaseUnavailable(
        Object.assign(new Error('query failed'), { cause: { kind: 'postgres', code: '08006' } }),
      ),
    ).toBe(true);
    expect(
      isDatabaseUnavailable({ code: 'P1001', message: "Can't reach database server at 127.0.0.1:5432" }),
    ).toBe(true);
    expect(
      isDatabaseUnavailable(new Error('x', { cause: { cause: { kind: 'DatabaseNotReachable' } } })),
    ).toBe(true);
  });

  it('does not treat a wrong query or a constraint violation as unavailability', () => {
    expect(
      isDatabaseUnavailable({ code: 'P2002', message: 'Unique constraint failed on the fields: (`nonce`)' }),
    ).toBe(false);
    expect(isDatabaseUnavailable({ code: '42P01', message: 'relation "nope" does not exist' })).toBe(false);
    expect(isDatabaseUnavailable(new Error('stored update 1 no longer matches its digest'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
  });
});
