import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookSender } from './webhook-sender.js';

/** A real local HTTP server; each path answers its own way. */
let server: Server;
let base: string;
const seen: Array<{ path: string; body: string; headers: IncomingMessage['headers'] }> = [];
const routes: Record<string, (response: ServerResponse) => void> = {
  '/ok': (res) => res.writeHead(200).end('received'),
  '/long': (res) => res.writeHead(200).end('x'.repeat(10_000)),
  '/nul': (res) => res.writeHead(200).end('ok\u0000done'),
  '/moved': (res) => res.writeHead(302, { location: '/ok' }).end(),
  '/throttled': (res) => res.writeHead(429, { 'retry-after': '42' }).end('slow down'),
  '/hold': () => {},
  '/trickle': (res) => {
    res.writeHead(202);
    res.write('accepted, and still');
  },
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      seen.push({
        path: request.url!,
        body: Buffer.concat(chunks).toString('utf8'),
        headers: request.headers,
      });
      (routes[request.url!] ?? ((res: ServerResponse) => res.writeHead(404).end()))(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const open = createWebhookSender({ allowPrivate: true, timeoutMs: 400 });
const guarded = createWebhookSender({ allowPrivate: false, timeoutMs: 400 });
afterAll(() => {
  open.close();
  guarded.close();
});

const body = JSON.stringify({ id: 'evt_1', note: 'naïve ☕' });
const countOf = (path: string) => seen.filter((r) => r.path === path).length;

describe('createWebhookSender', () => {
  it('POSTs the body byte for byte with the given headers and reads the answer', async () => {
    const result = await open.send(`${base}/ok`, body, { 'webhook-id': 'evt_1' });
    expect(result).toMatchObject({ status: 200, error: null, excerpt: 'received' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const request = seen.findLast((r) => r.path === '/ok')!;
    expect(request.body).toBe(body);
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(request.headers['webhook-id']).toBe('evt_1');
  });

  it('keeps the first 256 characters of a long answer', async () => {
    const result = await open.send(`${base}/long`, body, {});
    expect(result.excerpt).toBe('x'.repeat(256));
  });

  it('keeps an answer with NUL characters as text PostgreSQL can store', async () => {
    const result = await open.send(`${base}/nul`, body, {});
    expect(result.excerpt).toBe('ok\uFFFDdone');
  });

  it('never follows a redirect', async () => {
    const before = countOf('/ok');
    const result = await open.send(`${base}/moved`, body, {});
    expect(result.status).toBe(302);
    expect(countOf('/ok')).toBe(before);
  });

  it('hands back Retry-After', async () => {
    expect(await open.send(`${base}/throttled`, body, {})).toMatchObject({ status: 429, retryAfter: '42' });
  });

  it('gives up at the timeout', async () => {
    const result = await open.send(`${base}/hold`, body, {});
    expect(result).toMatchObject({ status: null, error: 'timed out after 0.4 s' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(390);
  });

  it('counts a status that came in time even if the body did not finish', async () => {
    expect(await open.send(`${base}/trickle`, body, {})).toMatchObject({
      status: 202,
      error: null,
      excerpt: 'accepted, and still',
    });
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await open.send(`http://127.0.0.1:${port}/`, body, {});
    expect(result.status).toBeNull();
    expect(result.error).toContain('ECONNREFUSED');
  });

  it('stops when the worker aborts', async () => {
    const controller = new AbortController();
    const sending = open.send(`${base}/hold`, body, {}, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await sending).toMatchObject({ status: null, error: 'aborted: the worker is shutting down' });
  });

  it('refuses, at connect time, a non-public address: literal or behind a name', async () => {
    const port = new URL(base).port;
    const before = seen.length;
    for (const url of [`${base}/ok`, `http://localhost:${port}/ok`, `http://[::ffff:127.0.0.1]:${port}/ok`]) {
      const result = await guarded.send(url, body, {});
      expect(result.status, url).toBeNull();
      expect(result.error, url).toMatch(/^refused: .* is not a public address$/);
    }
    expect(seen.length).toBe(before);
  });
});
