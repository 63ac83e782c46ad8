/**
 * Whether this process exports traces, read once from the standard OpenTelemetry variables: on
 * when OTEL_TRACES_EXPORTER names an exporter other than `none`, and OTEL_SDK_DISABLED is not
 * `true`. Off by default, so a deployment that sets nothing loads no SDK and no instrumentation.
 * Imports nothing, so the preload (src/tracing.ts) can ask without loading the API either.
 */
export function tracingEnabledIn(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .some((name) => name !== '' && name !== 'none');
}

export const tracingEnabled = tracingEnabledIn(process.env);

/**
 * Flushes and stops the SDK the preload started: the entry points call it last as they close, so
 * the spans of the final seconds are exported before the process exits. A no-op with tracing off.
 */
export const tracingLifecycle: { shutdown: () => Promise<void> } = {
  shutdown: async () => {},
};
