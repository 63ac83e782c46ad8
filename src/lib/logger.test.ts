import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger, loggerOptions } from './logger.js';

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

describe('lazyChildLogger', () => {
  function capture(level: string) {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    return { log: pino(loggerOptions(level), sink), lines };
  }

  it('writes a line with every binding, the later ones included, redacted as a pino child does', () => {
    const { log, lines } = capture('warn');
    const lazy = lazyChildLogger(log, { requestId: 'r-1' });
    lazy.setBindings({ tenantId: 't-1', keyPrefix: 'rdk_abc' });
    lazy.warn({ code: 'not_found', customer: { name: 'Wang Fang' } }, 'request refused');
    const made = log.child({ requestId: 'r-1' });
    made.setBindings({ tenantId: 't-1', keyPrefix: 'rdk_abc' });
    made.warn({ code: 'not_found', customer: { name: 'Wang Fang' } }, 'request refused');
    expect(lines).toHaveLength(2);
    const [lazyLine, childLine] = lines.map(({ time: _time, ...line }) => line);
    expect(lazyLine).toEqual(childLine);
    expect(lazyLine).toMatchObject({ requestId: 'r-1', tenantId: 't-1', keyPrefix: 'rdk_abc' });
    expect(JSON.stringify(lazyLine)).not.toContain('Wang Fang');
  });

  it('writes nothing and makes no child below the level, and keeps bindings made after a line', () => {
    const { log, lines } = capture('warn');
    let children = 0;
    const counting = Object.assign(Object.create(log) as typeof log, {
      child: (...args: Parameters<typeof log.child>) => {
        children += 1;
        return log.child(...args);
      },
    });
    const lazy = lazyChildLogger(counting, { requestId: 'r-2' });
    lazy.info('incoming request');
    lazy.debug({ detail: 1 }, 'quiet');
    expect(children).toBe(0);
    expect(lines).toEqual([]);
    expect(lazy.bindings()).toMatchObject({ requestId: 'r-2' });

    lazy.error('failed');
    lazy.setBindings({ tenantId: 't-2' });
    lazy.warn('refused');
    expect(children).toBe(1);
    expect(lines.map((line) => [line.msg, line.requestId, line.tenantId])).toEqual([
      ['failed', 'r-2', undefined],
      ['refused', 'r-2', 't-2'],
    ]);
  });

  it('gives children of its own that carry its bindings, and honours a level of its own', () => {
    const { log, lines } = capture('info');
    lazyChildLogger(log, { requestId: 'r-3' }).child({ step: 'relay' }).info('nested');
    lazyChildLogger(log, { requestId: 'r-4' }, { level: 'warn' }).info('dropped');
    expect(lines.map((line) => [line.msg, line.requestId, line.step])).toEqual([['nested', 'r-3', 'relay']]);
  });
});
