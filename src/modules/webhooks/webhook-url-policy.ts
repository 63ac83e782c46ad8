import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import pTimeout from 'p-timeout';
import { WebhookUrlRefusedError } from '../../lib/errors.js';

export const WEBHOOK_URL_MAX_LENGTH = 2048;

/**
 * What is wrong with a webhook URL as written, or null when it is acceptable: http or https,
 * a host, and no user name or password (they would be sent in clear and logged by receivers).
 */
export function webhookUrlProblem(raw: string): string | null {
  if (raw.length > WEBHOOK_URL_MAX_LENGTH) return `must be at most ${WEBHOOK_URL_MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (url.hostname === '') return 'must name a host';
  return null;
}

/**
 * True for a public unicast address. Everything ipaddr.js puts in a named range is refused:
 * loopback, private, link-local (169.254.169.254 included), carrier-grade NAT, multicast,
 * broadcast, unspecified, reserved, unique-local, IPv4-mapped and the IPv6 transition ranges that
 * embed an IPv4 address. request-filtering-agent applies the same test when it connects.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  // The deprecated IPv4-compatible form (::127.0.0.1) embeds an IPv4 address too, but ipaddr.js
  // calls it unicast.
  if (parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE)) return false;
  return parsed.range() === 'unicast';
}

const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/** Resolves a host name to every address it has. */
export type HostResolver = (hostname: string) => Promise<string[]>;

const LOOKUP_TIMEOUT_MS = 5_000;

/** The system resolver (what the HTTP client will use), bounded in time. */
export const systemResolver: HostResolver = async (hostname) => {
  const found = await pTimeout(dnsLookup(hostname, { all: true, verbatim: true }), {
    milliseconds: LOOKUP_TIMEOUT_MS,
    message: 'DNS lookup timed out',
  });
  return found.map((entry) => entry.address);
};

/**
 * Why a webhook URL must be refused, or null when every address its host resolves to is public.
 * A name that does not resolve is refused too: it cannot be checked, and it cannot be delivered to.
 */
export async function urlRefusal(raw: string, resolve: HostResolver): Promise<string | null> {
  const problem = webhookUrlProblem(raw);
  if (problem) return problem;
  // WHATWG URL parsing has already turned 0x7f.1, 2130706433 and friends into dotted quads.
  const hostname = new URL(raw).hostname.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.isValid(hostname)) {
    return isPublicAddress(hostname) ? null : `${hostname} is not a public address`;
  }
  let addresses: string[];
  try {
    addresses = await resolve(hostname);
  } catch {
    return `host '${hostname}' does not resolve`;
  }
  if (addresses.length === 0) return `host '${hostname}' does not resolve`;
  const refused = addresses.find((address) => !isPublicAddress(address));
  return refused === undefined
    ? null
    : `host '${hostname}' resolves to ${refused}, which is not a public address`;
}

/** Checks a URL as a subscription is created or changed; throws WebhookUrlRefusedError. */
export type WebhookUrlGuard = (url: string) => Promise<void>;

/** The subscription-time SSRF check; with `allowPrivate` (development, tests) it lets every URL through. */
export function createWebhookUrlGuard(options: {
  allowPrivate: boolean;
  resolve?: HostResolver;
}): WebhookUrlGuard {
  const resolve = options.resolve ?? systemResolver;
  return async (url) => {
    if (options.allowPrivate) return;
    const reason = await urlRefusal(url, resolve);
    if (reason) throw new WebhookUrlRefusedError(url, reason);
  };
}
