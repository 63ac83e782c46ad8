import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventProblems } from './event-catalogue.js';

/** A request the receiver took, with the body exactly as it arrived (signatures cover these bytes). */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  receivedAt: number;
}

/** How the receiver answers the nth request (0-based) on a path; `hold` never answers. */
export type Answer =
  | { status: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | { hold: true };

export interface Receiver {
  url: string;
  /** Every request so far, oldest first. */
  requests: ReceivedRequest[];
  /** Requests on one path. */
  on(path: string): ReceivedRequest[];
  /** Sets how a path answers; by default 200 "ok". */
  answer(path: string, decide: (index: number) => Answer): void;
  /** Ends every request being held. */
  releaseHeld(): void;
  /** Stops the receiver; fails when a webhook delivery it took did not match the event catalogue. */
  close(): Promise<void>;
}

/**
 * A real HTTP receiver on 127.0.0.1 and a random port, the way an integrator's endpoint would run.
 * Each webhook delivery it takes (a `webhook-id` header) is held to the event catalogue.
 */
export async function startReceiver(): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const offCatalogue: string[] = [];
  const answers = new Map<string, (index: number) => Answer>();
  const held = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const index = requests.filter((r) => r.path === path).length;
      requests.push({
        path,
        headers: request.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
        receivedAt: Date.now(),
      });
      if (request.headers['webhook-id']) offCatalogue.push(...deliveryProblems(requests.at(-1)!.rawBody));
      const answer = answers.get(path)?.(index) ?? { status: 200, body: 'ok' };
      if ('hold' in answer) {
        held.add(response);
        response.on('close', () => held.delete(response));
        return;
      }
      const send = () => response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on: (path) => requests.filter((r) => r.path === path),
    answer: (path, decide) => answers.set(path, decide),
    releaseHeld() {
      for (const response of held) response.destroy();
      held.clear();
    },
    async close() {
      for (const response of held) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (offCatalogue.length > 0) {
        throw new Error(`Webhook deliveries off the event catalogue:\n${offCatalogue.join('\n')}`);
      }
    },
  };
}

function deliveryProblems(body: string): string[] {
  try {
    return eventProblems(JSON.parse(body));
  } catch {
    return [`not JSON: ${body.slice(0, 200)}`];
  }
}
