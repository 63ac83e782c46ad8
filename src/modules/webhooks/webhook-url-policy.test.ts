import { describe, expect, it } from 'vitest';
import { WebhookUrlRefusedError } from '../../lib/errors.js';
import {
  createWebhookUrlGuard,
  type HostResolver,
  isPublicAddress,
  urlRefusal,
  webhookUrlProblem,
} from './webhook-url-policy.js';

/** A resolver answering from a table, standing in for DNS records a test cannot publish. */
const resolver =
  (records: Record<string, string[]>): HostResolver =>
  async (hostname) => {
    const found = records[hostname];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };

describe('webhookUrlProblem', () => {
  it.each([
    'https://hooks.example.com/redress',
    'http://hooks.example.com:8080/a?b=c',
    'https://93.184.216.34/x',
    'https://[2606:2800:220:1:248:1893:25c8:1946]/x',
  ])('accepts %s', (url) => expect(webhookUrlProblem(url)).toBeNull());

  it.each([
    ['hooks.example.com/redress', 'absolute'],
    ['ftp://example.com/x', 'http or https'],
    ['javascript:alert(1)', 'http or https'],
    ['file:///etc/passwd', 'http or https'],
    ['https://user@example.com/x', 'user name or password'],
    ['https://user:secret@example.com/x', 'user name or password'],
    [`https://example.com/${'x'.repeat(2048)}`, 'at most 2048'],
  ])('refuses %s', (url, why) => expect(webhookUrlProblem(url)).toContain(why));
});

describe('isPublicAddress', () => {
  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:81a::200e'])(
    'public: %s',
    (address) => expect(isPublicAddress(address)).toBe(true),
  );

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'IPv4-mapped'],
    ['::ffff:93.184.216.34', 'IPv4-mapped, even of a public address'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['240.0.0.1', 'reserved'],
    ['2002:7f00:1::', '6to4 embedding 127.0.0.1'],
    ['64:ff9b::a9fe:a9fe', 'NAT64 embedding 169.254.169.254'],
    ['::127.0.0.1', 'IPv4-compatible, embedding 127.0.0.1'],
    ['::7f00:1', 'IPv4-compatible, written in hex'],
    ['not-an-ip', 'not an address'],
  ])('not public: %s (%s)', (address) => expect(isPublicAddress(address)).toBe(false));
});

describe('urlRefusal', () => {
  const dns = resolver({
    'hooks.example.com': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
    'rebind.example.com': ['93.184.216.34', '127.0.0.1'],
    'metadata.example.com': ['169.254.169.254'],
    'empty.example.com': [],
  });

  it('accepts a name all of whose addresses are public', async () => {
    expect(await urlRefusal('https://hooks.example.com/x', dns)).toBeNull();
  });

  it('refuses a name with any non-public address, naming it', async () => {
    expect(await urlRefusal('https://rebind.example.com/x', dns)).toContain('127.0.0.1');
    expect(await urlRefusal('http://metadata.example.com/', dns)).toContain('169.254.169.254');
  });

  it('refuses a name that does not resolve', async () => {
    expect(await urlRefusal('https://nowhere.example.com/x', dns)).toContain('does not resolve');
    expect(await urlRefusal('https://empty.example.com/x', dns)).toContain('does not resolve');
  });

  it('checks address literals without asking DNS, in every spelling', async () => {
    const noDns: HostResolver = async () => {
      throw new Error('DNS must not be asked');
    };
    for (const url of [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f000001/',
      'http://0177.0.0.1/',
      'http://[::1]/',
      'http://[::ffff:7f00:1]/',
      'http://[::127.0.0.1]/',
    ]) {
      expect(await urlRefusal(url, noDns), url).toContain('not a public address');
    }
    expect(await urlRefusal('http://93.184.216.34/', noDns)).toBeNull();
  });
});

describe('createWebhookUrlGuard', () => {
  it('throws WebhookUrlRefusedError (422 webhook_url_refused) for a refused URL', async () => {
    const guard = createWebhookUrlGuard({ allowPrivate: false, resolve: resolver({}) });
    const error = await guard('http://10.0.0.1/x').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WebhookUrlRefusedError);
    expect(error).toMatchObject({ status: 422, code: 'webhook_url_refused' });
    await expect(guard('https://93.184.216.34/x')).resolves.toBeUndefined();
  });

  it('lets everything through with WEBHOOK_ALLOW_PRIVATE', async () => {
    const guard = createWebhookUrlGuard({ allowPrivate: true, resolve: resolver({}) });
    await expect(guard('http://127.0.0.1:3000/x')).resolves.toBeUndefined();
    await expect(guard('http://unresolvable.invalid/x')).resolves.toBeUndefined();
  });
});
