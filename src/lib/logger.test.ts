import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { loggerOptions } from './logger.js';

describe('log redaction', () => {
  it('never writes customer identity or API keys', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = pino(loggerOptions('info'), sink);
    const customer = {
      name: 'Wang Fang',
      phone: '+86 138 0013 8000',
      email: 'wang@example.com',
      address: 'Building 3',
    };
    log.info({ customer }, 'direct');
    log.info({ body: { customer } }, 'nested');
    log.info({ req: { body: { customer } } }, 'deeper');
    log.info({ req: { headers: { authorization: 'Bearer rdk_secret' } } }, 'headers');
    const output = lines.join('');
    for (const secret of ['Wang Fang', '138 0013', 'wang@example.com', 'Building 3', 'rdk_secret']) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain('[redacted]');
  });
});
