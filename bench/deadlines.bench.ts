/**
 * Deadline scenario: 100,000 pending deadlines due across a 60-second window, armed in BullMQ as
 * the API arms them, then fired by the real worker process. Prints detection lag, breaches per
 * second against the same breach writes issued directly, the exactly-once check, and Redis
 * memory per pending deadline.
 *
 * The deadlines are 24-hour first-contact deadlines, as they stand in the last minute of their
 * day: their 75 % warning fired 6 hours earlier, so what falls due in the window is the breaches.
 * BENCH_WARNINGS_IN_WINDOW=1 instead starts them now, putting each warning inside the window too
 * (twice the wake-ups in the same minute, a harsher load than any real day produces).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import pg from 'pg';
import { envSchema } from '../src/config/env.js';
import { createDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { mastersOf, type RedisClient } from '../src/lib/redis.js';
import { FINISHED_STATUSES } from '../src/modules/complaints/complaint-status.js';
import { openDeadlineQueue } from '../src/modules/deadlines/deadline-queue.js';
import { ARMING_HORIZON_MS } from '../src/modules/deadlines/deadline-scheduler.js';
import { TOP_LEVEL } from '../src/modules/escalations/escalation-levels.js';
import { createServices } from '../src/services.js';
import {
  benchRedisTarget,
  benchResources,
  connectBenchRedis,
  percentile,
  redisEnv,
  sleep,
  startChild,
  table,
  verdict,
} from './lib.js';

const COUNT = Number(process.env.BENCH_DEADLINES ?? 100_000);
const WINDOW_SECONDS = Number(process.env.BENCH_WINDOW ?? 60);
// A few deadlines per complaint, spread over the window: each breach numbers its complaint's next
// event under that complaint's row lock, so a complaint with all its deadlines due together would
// measure lock queueing, not detection.
const PER_COMPLAINT = 5;
/** Time allowed for arming before the first deadline falls due. */
const LEAD_SECONDS = Number(process.env.BENCH_LEAD ?? 30);
/** The worker's own default (WORKER_CONCURRENCY) unless set. */
const CONCURRENCY =
  process.env.BENCH_WORKER_CONCURRENCY ?? String(envSchema.shape.WORKER_CONCURRENCY.parse(undefined));
const RAW_CONNECTIONS_MAX = 50;
const WARNINGS_IN_WINDOW = process.env.BENCH_WARNINGS_IN_WINDOW === '1';

/** Memory Redis uses for data, summed over the masters of a cluster. */
async function usedMemory(redis: RedisClient): Promise<number> {
  const infos = await Promise.all(mastersOf(redis).map((master) => master.info('memory')));
  return infos.reduce((sum, info) => sum + Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN), 0);
}

/** Deadline queues to spread the wake-ups over (DEADLINE_QUEUE_SHARDS), for a cluster. */
const SHARDS = Number(process.env.DEADLINE_QUEUE_SHARDS ?? 1);

/**
 * The breach write the worker makes, one breach per transaction (record_deadline_wake_up, a batch
 * of one), issued directly on `connections` connections: the baseline.
 */
async function rawBreaches(
  databaseUrl: string,
  deadlines: Array<{ id: string; due_at: Date }>,
  connections: number,
): Promise<number> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < deadlines.length) {
        const deadline = deadlines[next++]!;
        await pool.query(
          `select * from record_deadline_wake_up($1, $2, -1, now(), 'evt_' || md5(random()::text), gen_random_uuid(),
             'evt_' || md5(random()::text), '{"type":"system","id":null,"name":"bench","onBehalfOf":null}',
             $3::smallint, $4::complaint_status[])`,
          [deadline.id, deadline.due_at, TOP_LEVEL, FINISHED_STATUSES],
        );
      }
    }),
  );
  await pool.end();
  return deadlines.length / ((Date.now() - started) / 1000);
}

export async function runDeadlineBenchmark(): Promise<void> {
  const resources = await benchResources('deadlines');
  const database = createDatabase({ url: resources.databaseUrl, poolMax: 8, applicationName: 'bench' });
  const redis = await connectBenchRedis();
  const deadlineQueue = openDeadlineQueue(benchRedisTarget, resources.redisPrefix, systemClock, {
    failFast: false,
    shards: SHARDS,
  });
  let worker: Awaited<ReturnType<typeof startChild>> | null = null;
  try {
    const services = createServices({ db: database.db, clock: systemClock, scheduler: null });
    const { tenant } = await services.tenancy.createTenant('Bench');
    const [policy] = await services.policies.list(tenant.id);
    const complaints = Math.ceil(COUNT / PER_COMPLAINT);
    console.log(
      `deadline scenario: ${COUNT.toLocaleString('en-US')} deadlines over ${WINDOW_SECONDS} s, worker concurrency ${CONCURRENCY}` +
        (WARNINGS_IN_WINDOW
          ? ', each with its warning inside the window too'
          : ', warnings recorded before the window'),
    );

    await database.pool.query(
      `insert into complaints (id, tenant_id, reference, channel, subject, description, received_at, received_by)
       select gen_random_uuid(), $1, 'B-' || i, 'web', 'Bench complaint', 'Bench', now(), 'bench'
       from generate_series(1, $2) as i`,
      [tenant.id, complaints],
    );
    // Due times spread evenly over the window, starting LEAD_SECONDS from now, with a warning at
    // 75 % of each span as the default policy sets: already recorded for a 24-hour deadline, still
    // to come (inside the window) for one started now.
    await database.pool.query(
      `with c as (select id, row_number() over (order by id) - 1 as n from complaints where tenant_id = $1),
            d as (select c.id as complaint_id, (k * (select count(*) from c) + c.n) as i from c, generate_series(0, $2 - 1) as k),
            w as (select complaint_id, i, now() + make_interval(secs => $4 + (i::float8 / $3) * $5) as due from d where i < $3),
            t as (select complaint_id, i, due, case when $7::boolean then now() else due - interval '24 hours' end as starts from w)
       insert into deadlines (id, tenant_id, complaint_id, kind, status, starts_at, due_at, warn_ats, warn_fractions,
                              warnings_fired, clock, target_duration, duration_ms, policy_id, policy_version)
       select gen_random_uuid(), $1, complaint_id, 'first_contact', 'pending', starts, due,
              array[starts + (due - starts) * 0.75], array[0.75]::real[], case when $7::boolean then 0 else 1 end,
              'calendar', case when $7::boolean then null else 'PT24H' end,
              (extract(epoch from due - starts) * 1000)::bigint, $6, 1
       from t`,
      [tenant.id, PER_COMPLAINT, COUNT, LEAD_SECONDS, WINDOW_SECONDS, policy!.id, WARNINGS_IN_WINDOW],
    );

    // A live database has planner statistics; a table filled a moment ago has none yet.
    await database.pool.query('analyze complaints; analyze deadlines');
    const memoryBefore = await usedMemory(redis);
    const armStarted = Date.now();
    // What the worker's first sweep would arm: everything due within the arming horizon.
    const until = new Date(Date.now() + ARMING_HORIZON_MS);
    let after: { wakeAt: Date; id: string } | null = null;
    for (;;) {
      const page = await services.repositories.deadlines.pendingWakingBy(until, after, 2_000);
      if (page.length === 0) break;
      await deadlineQueue.scheduler.arm(page);
      const last = page.at(-1)!;
      after = { wakeAt: last.wakeAt, id: last.id };
    }
    const armSeconds = (Date.now() - armStarted) / 1000;
    const memoryAfter = await usedMemory(redis);
    const bytesPerDeadline = (memoryAfter - memoryBefore) / COUNT;
    const jobs = await deadlineQueue.jobCounts('delayed', 'wait');
    console.log(
      `armed ${((jobs.delayed ?? 0) + (jobs.wait ?? 0)).toLocaleString('en-US')} jobs in ${armSeconds.toFixed(1)} s; ` +
        `Redis grew ${((memoryAfter - memoryBefore) / 1_048_576).toFixed(1)} MiB`,
    );
    const { rows: firstDue } = await database.pool.query('select min(due_at) as first from deadlines');
    if (new Date(firstDue[0].first).getTime() < Date.now()) {
      console.log('warning: arming took longer than the lead time; raise BENCH_LEAD for a fair lag figure');
    }

    worker = await startChild(
      'src/worker.ts',
      {
        DATABASE_URL: resources.databaseUrl,
        ...redisEnv,
        REDIS_PREFIX: resources.redisPrefix,
        DEADLINE_QUEUE_SHARDS: String(SHARDS),
        LOG_LEVEL: 'warn',
        WORKER_CONCURRENCY: CONCURRENCY,
        WORKER_METRICS_PORT: '0',
        // The longest allowed: the sweep at start, then none during the run.
        SLA_RECONCILE_INTERVAL: '300',
        NODE_ENV: 'production',
      },
      () => false,
      // Ready once its deadline worker has connected: a worker that failed to start fails here,
      // not as a run in which nothing was breached.
      async () => (await deadlineQueue.queues[0]!.getWorkersCount()) > 0,
      // Opt-in, as in the api scenario: a .cpuprofile of the worker, written when it stops.
      process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [],
    );
    const giveUpAt = Date.now() + (LEAD_SECONDS + WINDOW_SECONDS + 120) * 1000;
    let breached = 0;
    while (Date.now() < giveUpAt) {
      const { rows } = await database.pool.query(
        `select count(*)::int as n from deadlines where status = 'breached'`,
      );
      breached = rows[0].n;
      if (breached >= COUNT) break;
      await sleep(1_000);
    }
    await worker.stop();
    worker = null;

    const { rows: lagRows } = await database.pool.query(
      `select extract(epoch from breached_at - due_at) * 1000 as lag_ms from deadlines where status = 'breached' order by 1`,
    );
    const lags = lagRows.map((row) => Number(row.lag_ms));
    // Lag through the window, in 10-second slices of due time: a backlog that builds up shows as
    // lag rising slice by slice, a slow start as lag that falls.
    const { rows: slices } = await database.pool.query(
      `with b as (select due_at, extract(epoch from breached_at - due_at) * 1000 as lag_ms,
                         min(due_at) over () as first_due
                  from deadlines where status = 'breached')
       select floor(extract(epoch from due_at - first_due) / 10)::int * 10 as from_s, count(*)::int as n,
              round(percentile_cont(0.5) within group (order by lag_ms))::int as p50_ms,
              round(percentile_cont(0.99) within group (order by lag_ms))::int as p99_ms
       from b group by 1 order by 1`,
    );
    console.log(
      `\nlag by due time\n${table(
        slices.map((slice) => ({
          'due from s': slice.from_s,
          deadlines: slice.n,
          'p50 lag ms': slice.p50_ms,
          'p99 lag ms': slice.p99_ms,
        })),
      )}`,
    );
    const { rows: span } = await database.pool.query(
      `select extract(epoch from max(breached_at) - min(breached_at)) as seconds from deadlines where status = 'breached'`,
    );
    const { rows: events } = await database.pool.query(
      `select count(*)::int as total, count(distinct data->'deadline'->>'id')::int as distinct_deadlines
       from events where type = 'deadline.breached'`,
    );
    const { rows: warnings } = await database.pool.query(
      `select count(*)::int as n from events where type = 'deadline.warning'`,
    );
    // Each breach raises its complaint one level, up to 3: at most three escalations per complaint.
    const { rows: escalated } = await database.pool.query(
      `select count(*)::int as total, count(distinct deadline_id)::int as distinct_breaches,
              coalesce(max(per_complaint), 0)::int as most_per_complaint
       from (select deadline_id, count(*) over (partition by complaint_id) as per_complaint
             from escalations where trigger = 'breach') as e`,
    );
    const breachesPerSecond = breached / Math.max(1, Number(span[0].seconds));
    const exactlyOnce =
      events[0].total === COUNT &&
      events[0].distinct_deadlines === COUNT &&
      breached === COUNT &&
      escalated[0].total === escalated[0].distinct_breaches &&
      escalated[0].most_per_complaint <= 3;

    // Baseline from the same run: the same breach writes issued directly, on 5,000 fresh deadlines.
    const { rows: fresh } = await database.pool.query(
      `insert into deadlines (id, tenant_id, complaint_id, kind, status, starts_at, due_at, clock, duration_ms, policy_id, policy_version)
       select gen_random_uuid(), tenant_id, complaint_id, kind, 'pending', now(), now(), clock, 0, policy_id, 1
       from deadlines limit 5000 returning id, due_at`,
    );
    const rawPerSecond = await rawBreaches(
      resources.databaseUrl,
      fresh as Array<{ id: string; due_at: Date }>,
      // As many connections as the worker runs jobs, within what PostgreSQL's default 100 allows.
      Math.min(Number(CONCURRENCY), RAW_CONNECTIONS_MAX),
    );

    const summary = {
      deadlines: COUNT,
      breached,
      breachedEvents: events[0].total,
      warningEvents: warnings[0].n,
      escalations: escalated[0].total,
      'lag p50 ms': percentile(lags, 50),
      'lag p99 ms': percentile(lags, 99),
      'lag max ms': lags.at(-1) ?? Number.NaN,
      'breaches/s': breachesPerSecond,
      'raw breach tx/s': rawPerSecond,
      'Redis bytes/deadline': bytesPerDeadline,
    };
    console.log(`\n${table(Object.entries(summary).map(([figure, value]) => ({ figure, value })))}`);
    console.log(
      `\nratio worker breaches/s ÷ raw breach transactions/s: ${(breachesPerSecond / rawPerSecond).toFixed(2)}` +
        `\ntargets: p99 lag ≤ 1 s ${verdict(summary['lag p99 ms'] <= 1000)}, every deadline breached exactly once ${verdict(exactlyOnce)}, ` +
        `≤ 1 KB Redis per pending deadline ${verdict(bytesPerDeadline <= 1024)}`,
    );
    await mkdir('bench/results', { recursive: true });
    await writeFile(
      `bench/results/deadlines-${new Date().toISOString().replaceAll(':', '-')}.json`,
      JSON.stringify(
        {
          windowSeconds: WINDOW_SECONDS,
          warningsInWindow: WARNINGS_IN_WINDOW,
          concurrency: CONCURRENCY,
          armSeconds,
          summary,
          exactlyOnce,
        },
        null,
        2,
      ),
    );
  } finally {
    await worker?.stop();
    await deadlineQueue.close();
    redis.disconnect();
    await database.close();
    await resources.cleanup();
  }
}
