import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/** What one POST to a receiver came to. */
export interface SendResult {
  /** The HTTP status, or null when no answer came (refused, timed out, blocked address). */
  status: number | null;
  latencyMs: number;
  error: string | null;
  /** The first characters of the answer's body. */
  excerpt: string | null;
  retryAfter: string | undefined;
}

export interface WebhookSender {
  send(url: string, body: string, headers: Record<string, string>, signal?: AbortSignal): Promise<SendResult>;
  close(): void;
}

const EXCERPT_CHARS = 256;
// Enough of an answer to quote; beyond it the connection is dropped rather than read to the end.
const MAX_READ_BYTES = 64 * 1024;

function describe(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  const message = err?.message ?? String(error);
  // request-filtering-agent's wording names the refused address; keep it, drop the rest.
  const refused = /^DNS lookup (\S+?)\(.*not allowed/.exec(message);
  if (refused) return `refused: ${refused[1]} is not a public address`;
  const text = err?.code && !message.includes(err.code) ? `${err.code}: ${message}` : message;
  return text.slice(0, 500);
}

/**
 * POSTs deliveries over keep-alive connections. The agents check the address actually dialled,
 * after DNS and at every new connection, so a name re-pointed at 169.254.169.254 after its
 * subscription was accepted is still refused. Redirects are never followed: node:http does not,
 * and a 3xx is simply not a 2xx.
 */
/**
 * What the receiver said, as PostgreSQL can store it: a text column refuses NUL characters, and
 * one of them in a reply once failed the whole batch of attempts recorded with it, so every
 * delivery in that batch was sent again and the one from that receiver was never recorded.
 */
export const storableText = (text: string): string => text.replaceAll('\u0000', '\uFFFD');

export function createWebhookSender(options: { allowPrivate: boolean; timeoutMs: number }): WebhookSender {
  const agentOptions = {
    keepAlive: true,
    allowPrivateIPAddress: options.allowPrivate,
    // A receiver that holds sockets open must not pile up idle connections in the worker.
    maxFreeSockets: 64,
  };
  const httpAgent = new RequestFilteringHttpAgent(agentOptions);
  const httpsAgent = new RequestFilteringHttpsAgent(agentOptions);

  return {
    send(url, body, headers, signal) {
      return new Promise<SendResult>((resolve) => {
        const started = performance.now();
        let settled = false;
        let status: number | null = null;
        let retryAfter: string | undefined;
        const chunks: Buffer[] = [];
        let read = 0;
        let timer: NodeJS.Timeout | undefined;
        let request: http.ClientRequest | undefined;
        const onAbort = () => {
          finish('aborted: the worker is shutting down');
          request?.destroy();
        };
        const finish = (error: string | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          const excerpt = read > 0 ? Buffer.concat(chunks).toString('utf8').slice(0, EXCERPT_CHARS) : null;
          resolve({
            status,
            latencyMs: Math.round(performance.now() - started),
            error: error === null ? null : storableText(error),
            excerpt: excerpt === null ? null : storableText(excerpt),
            retryAfter,
          });
        };

        let target: URL;
        try {
          target = new URL(url);
        } catch (error) {
          finish(describe(error));
          return;
        }
        if (signal?.aborted) {
          onAbort();
          return;
        }
        const secure = target.protocol === 'https:';
        const sent = (secure ? https : http).request(target, {
          method: 'POST',
          agent: secure ? httpsAgent : httpAgent,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        });
        request = sent;
        // One deadline for connecting, the status line and reading the answer.
        timer = setTimeout(() => {
          const seconds = options.timeoutMs / 1000;
          // A status that arrived in time counts even if the body is still trickling in.
          finish(status === null ? `timed out after ${seconds} s` : null);
          sent.destroy();
        }, options.timeoutMs);
        signal?.addEventListener('abort', onAbort, { once: true });

        sent.on('response', (response) => {
          status = response.statusCode ?? null;
          const header = response.headers['retry-after'];
          retryAfter = Array.isArray(header) ? header[0] : header;
          response.on('data', (chunk: Buffer) => {
            if (read < MAX_READ_BYTES) chunks.push(chunk);
            read += chunk.length;
            if (read >= MAX_READ_BYTES) {
              finish(null);
              response.destroy();
            }
          });
          response.on('end', () => finish(null));
          response.on('error', () => finish(null));
          response.on('close', () => finish(null));
        });
        sent.on('error', (error) => finish(status === null ? describe(error) : null));
        sent.end(body);
      });
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
