import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, startApi, type TestApi } from './helpers/api.js';

describe('smoke', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(async () => {
    await t.close();
  });
  it('serves readyz against real FerretDB', async () => {
    const r = await client(t.url).get('/readyz');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok', mongo: 'up', redis: 'disabled' });
  });
});
