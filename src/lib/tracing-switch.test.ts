import { describe, expect, it } from 'vitest';
import { tracingEnabledIn } from './tracing-switch.js';

describe('tracingEnabledIn', () => {
  it.each([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: '' }, false],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: ' None ' }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none,otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }, false],
    [{ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' }, true],
  ])('%j → %s', (env, enabled) => {
    expect(tracingEnabledIn(env as NodeJS.ProcessEnv)).toBe(enabled);
  });
});
