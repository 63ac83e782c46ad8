/**
 * API scenario: complaint create and get-by-id through the real API (a child process, as
 * deployed), side by side with a bare Fastify hello-world and PostgreSQL doing the same inserts
 * directly, all in one run on the same machine, so the ratios mean something even where the
 * absolute figures depend on the hardware.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import type autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { createDatabase } from '../src/db/client.js';
import * as schema from '../src/db/schema/index.js';
import { systemClock } from '../src/lib/clock.js';
import { randomBase62 } from '../src/lib/ids.js';
import {
  complaintReferenceSql,
  takeReferenceNumbers,
  takeReferenceNumbersSql,
} from '../src/modules/complaints/complaint-reference.js';
import { createServices } from '../src/services.js';
import {
  apiEnv,
  appEnv,
  benchConnections,
  benchDuration,
  benchResources,
  benchTracingEnv,
  benchWarmup,
  type Child,
  closedLoop,
  DEPLOYED_NODE_FLAGS,
  freePort,
  type LoadResult,
  load,
  noiseWarnings,
  resultsTable,
  startChild,
  table,
  verdict,
} from './lib.js';

const TARGETS = { createPerSecond: 1_500, createP99Ms: 50, getPerSecond: 5_000 };
/** Ids read back for the GET run; enough that reads are not all served from a few hot pages. */
const GET_IDS = 5_000;
/** Tenants the platform create run spreads its creates over. */
const PLATFORM_TENANTS = 50;

/**
 * The body every create sends; the subject carries a counter so no two requests are identical.
 * So does the phone number: one customer complaining again in the same category is a repeat
 * complaint, major and reported up in a transaction, which is not the intake this measures.
 * Every create still makes the repeat lookup, as real intake with a customer and category does.
 */
const complaintBody = (n: number) => ({
  channel: 'web',
  category: 'billing',
  subject: `Charged twice for the November bill #${n}`,
  description: 'My card was charged twice on 3 November for the same invoice. Please refund one payment.',
  customer: { name: 'Wang Fang', phone: `+86 138 ${String(n).padStart(8, '0')}` },
});

export async function runApiBenchmark(): Promise<void> {
  const resources = await benchResources('api');
  const database = createDatabase({
    url: resources.databaseUrl,
    poolMax: 4,
    applicationName: 'redress-bench',
  });
  const children: Child[] = [];
  try {
    // createServices, not createTenancyService alone: its onTenantCreated gives the tenant the
    // default SLA policy, without which intake opens no deadlines and the benchmark flatters the API.
    const services = createServices({ db: database.db, clock: systemClock, scheduler: null });
    const { tenant, apiKey, plaintextKey } = await services.tenancy.createTenant('Bench');
    // A platform's load: the same creates spread over many tenants. Intake batches a tenant's
    // complaints together (each batch's statements name one tenant, as Citus routes them), so
    // this shows what the batches lose when each holds a few complaints rather than many.
    const platformKeys: string[] = [];
    for (let n = 0; n < PLATFORM_TENANTS; n++)
      platformKeys.push((await services.tenancy.createTenant(`Bench platform ${n}`)).plaintextKey);

    const apiPort = await freePort();
    const apiPoolMax = process.env.BENCH_API_POOL_MAX;
    // Opt-in, since profiling slows the API: a .cpuprofile of the whole run, written when it stops.
    const profileDir = process.env.BENCH_CPU_PROF;
    // The API and the worker start as the image starts them, profiled when asked.
    const childNodeArgs = [
      ...DEPLOYED_NODE_FLAGS,
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ];
    // BENCH_TRACING=0.1: both trace 10 % of requests, to measure what tracing costs intake.
    const tracing = await benchTracingEnv();
    const api = await startChild(
      'src/main.ts',
      apiEnv(resources, apiPort, { ...tracing, ...(apiPoolMax ? { DATABASE_POOL_MAX: apiPoolMax } : {}) }),
      () => false,
      async () => (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).status === 200,
      childNodeArgs,
    );
    children.push(api);
    const helloPort = await freePort();
    const hello = await startChild('bench/hello-server.ts', { PORT: String(helloPort) }, (line) =>
      line.includes('hello server listening'),
    );
    children.push(hello);

    console.log(
      `api scenario: ${benchConnections} connections, ${benchWarmup} s warm-up + ${benchDuration} s per run, ` +
        `API pool ${apiPoolMax ?? 'default'}, ${cpus().length} CPUs; database ${resources.databaseName}`,
    );
    if (profileDir) console.log(`  profiling the API into ${profileDir}: figures are lower than without`);
    if (tracing.OTEL_TRACES_SAMPLER_ARG) {
      console.log(`  tracing on in the API and the worker, sampling ${tracing.OTEL_TRACES_SAMPLER_ARG}`);
    }
    const base = { connections: benchConnections, pipelining: 1 };

    const helloResult = await load(
      'fastify hello-world GET /',
      { ...base, url: `http://127.0.0.1:${helloPort}/` },
      { serverPid: hello.pid, database: resources.databaseName },
    );
    await hello.stop();
    progress(helloResult);

    // The worker runs beside the API, as deployed: its outbox relay takes every intake's event.
    // Without it, no relay would ever be awake, and every intake would NOTIFY on commit, which
    // PostgreSQL serialises across the cluster (migration 0008): that measures a stack nobody runs.
    const worker = await startChild(
      'src/worker.ts',
      appEnv(resources, { ...tracing, WORKER_METRICS_PORT: '0', SLA_RECONCILE_INTERVAL: '300' }),
      () => false,
      async () => {
        const { rowCount } = await database.pool.query(
          `select 1 from pg_stat_activity where datname = $1 and application_name = 'redress-relay'`,
          [resources.databaseName],
        );
        return (rowCount ?? 0) > 0;
      },
      childNodeArgs,
    );
    children.push(worker);
    const serviceCpu = { serverPid: api.pid, workerPid: worker.pid, database: resources.databaseName };

    let sent = 0;
    const createOptions: autocannon.Options = {
      ...base,
      url: `http://127.0.0.1:${apiPort}`,
      requests: [
        {
          method: 'POST',
          path: '/v1/complaints',
          headers: { authorization: `Bearer ${plaintextKey}`, 'content-type': 'application/json' },
          setupRequest: (request) => ({
            ...request,
            body: JSON.stringify(complaintBody(++sent)),
          }),
        },
      ],
    };
    // As fast as the connections go: how many creates a second the machine can take.
    const createResult = await load(
      'POST /v1/complaints',
      createOptions,
      serviceCpu,
      // The warm-up has filled the tables, but this server's autovacuum may be off (it is on the
      // project's CI machines) and then they stay unanalysed: the planner then guesses, and
      // intake's repeat-complaint lookup walked every complaint of the tenant received in the
      // window instead of the customer's few, slowing intake fourfold by ten thousand rows. A
      // deployed PostgreSQL analyses as tables grow; this does once what autovacuum would.
      () => analyzeIntakeTables(database.pool),
    );
    progress(createResult);
    // At the target rate: the latency a client sees while the API takes 1,500 creates a second.
    // The run above saturates the machine, so its latency is mostly waiting in line (50
    // connections over its rate), and grows with the connection count rather than with the work.
    const pacedCreateResult = await load(
      `POST /v1/complaints at ${TARGETS.createPerSecond.toLocaleString('en-US')}/s`,
      { ...createOptions, overallRate: TARGETS.createPerSecond },
      serviceCpu,
    );
    progress(pacedCreateResult);
    let platformSent = 0;
    const platformCreateResult = await load(
      `POST /v1/complaints over ${PLATFORM_TENANTS} tenants`,
      {
        ...base,
        url: `http://127.0.0.1:${apiPort}`,
        requests: [
          {
            method: 'POST',
            path: '/v1/complaints',
            setupRequest: (request) => {
              platformSent++;
              return {
                ...request,
                headers: {
                  authorization: `Bearer ${platformKeys[platformSent % PLATFORM_TENANTS]}`,
                  'content-type': 'application/json',
                },
                body: JSON.stringify(complaintBody(platformSent)),
              };
            },
          },
        ],
      },
      serviceCpu,
    );
    progress(platformCreateResult);

    // From SQL rather than the create responses: parsing thousands of bodies in the load
    // generator would steal CPU from the run it is measuring.
    // The one tenant's complaints: the GET run reads with its key, and the platform run's
    // complaints are other tenants'.
    const { rows } = await database.pool.query<{ id: string }>(
      'select id from complaints where tenant_id = $1 order by random() limit $2',
      [tenant.id, GET_IDS],
    );
    const ids = rows.map((row) => row.id);
    if (ids.length < GET_IDS) {
      // A failing create run must not also void the read figures: top up directly.
      const seeded = await seedComplaints(resources.databaseUrl, tenant.id, GET_IDS - ids.length);
      console.log(
        `  (create run left ${ids.length} complaints; seeded ${seeded.length} directly for the GET run)`,
      );
      ids.push(...seeded);
    }
    // Tables filled seconds ago have no planner statistics yet; left so, the read's next-deadline
    // lookup may walk the tenant's whole pending-deadline index and the figure would depend on
    // whether autovacuum happened to run. A table in service has been analysed.
    await analyzeIntakeTables(database.pool);
    let next = 0;
    const getResult = await load(
      'GET /v1/complaints/{id}',
      {
        ...base,
        url: `http://127.0.0.1:${apiPort}`,
        requests: [
          {
            method: 'GET',
            headers: { authorization: `Bearer ${plaintextKey}` },
            setupRequest: (request) => {
              next = (next + 1) % ids.length;
              return { ...request, path: `/v1/complaints/${ids[next]}` };
            },
          },
        ],
      },
      serviceCpu,
    );
    progress(getResult);

    // The API's own warnings (failed arming, slow Redis) explain errors the load numbers only count.
    const apiComplaints = summariseLog(api.lines);
    const apiExit = api.process.exitCode ?? api.process.signalCode;
    if (apiExit !== null) {
      // Connection errors alone would hide that the server under test died during the run.
      apiComplaints.unshift({ count: 1, what: `API process exited during the run (${apiExit})` });
      for (const line of api.lines.slice(-15)) apiComplaints.push({ count: 1, what: `output: ${line}` });
    }
    await api.stop();

    // The API is stopped first, so PostgreSQL has the machine to itself as it would behind a
    // perfect API. The worker stays: it relays the raw runs' events as it relayed the API's.
    const actor = { type: 'api_key', id: apiKey.id, name: apiKey.name, onBehalfOf: null };
    const intake = await intakeTemplate(database.pool);
    const rawPool = new pg.Pool({
      connectionString: resources.databaseUrl,
      max: benchConnections,
      application_name: 'redress-bench-raw',
    });
    let rawA: LoadResult;
    let rawB: LoadResult;
    try {
      const raw = rawIntake(rawPool, tenant.id, actor, intake);
      rawA = await closedLoop('raw pg: complaint + timeline', benchConnections, () => raw(false), {
        workerPid: worker.pid,
        database: resources.databaseName,
      });
      progress(rawA);
      rawB = await closedLoop('raw pg: all intake writes', benchConnections, () => raw(true), {
        workerPid: worker.pid,
        database: resources.databaseName,
      });
      progress(rawB);
    } finally {
      await rawPool.end();
    }

    const results = [
      helloResult,
      createResult,
      pacedCreateResult,
      platformCreateResult,
      getResult,
      rawA,
      rawB,
    ];
    console.log(`\n${resultsTable(results)}`);
    console.log(
      '\ncpu columns: % of one core during the measured run (this machine has ' +
        `${cpus().length * 100} %); loadgen is the autocannon / pg client in this process`,
    );
    for (const warning of noiseWarnings(results)) console.log(warning);

    const ratios = {
      'create / hello': createResult.requestsPerSecond / helloResult.requestsPerSecond,
      [`create over ${PLATFORM_TENANTS} tenants / create for one`]:
        platformCreateResult.requestsPerSecond / createResult.requestsPerSecond,
      'get / hello': getResult.requestsPerSecond / helloResult.requestsPerSecond,
      'create / raw-postgres (complaint + timeline)': createResult.requestsPerSecond / rawA.requestsPerSecond,
      'create / raw-postgres (all intake writes)': createResult.requestsPerSecond / rawB.requestsPerSecond,
    };
    console.log(`\n${table(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value })))}`);

    const targets = {
      [`create ≥ ${TARGETS.createPerSecond.toLocaleString('en-US')}/s`]:
        createResult.requestsPerSecond >= TARGETS.createPerSecond,
      [`create at ${TARGETS.createPerSecond.toLocaleString('en-US')}/s: kept the rate (≥ 95 %)`]:
        pacedCreateResult.requestsPerSecond >= TARGETS.createPerSecond * 0.95,
      [`create at ${TARGETS.createPerSecond.toLocaleString('en-US')}/s: p99 ≤ ${TARGETS.createP99Ms} ms`]:
        pacedCreateResult.total > 0 && pacedCreateResult.p99 <= TARGETS.createP99Ms,
      'create: no non-2xx or errors':
        createResult.non2xx + createResult.errors + pacedCreateResult.non2xx + pacedCreateResult.errors === 0,
      [`get ≥ ${TARGETS.getPerSecond.toLocaleString('en-US')}/s`]:
        getResult.requestsPerSecond >= TARGETS.getPerSecond,
      'get: no non-2xx or errors': getResult.non2xx + getResult.errors === 0,
    };
    console.log(
      `\n${table(Object.entries(targets).map(([target, met]) => ({ target, result: verdict(met) })))}`,
    );
    for (const result of results) {
      if (result.non2xx + result.errors === 0) continue;
      console.log(
        `\n${result.name}: ${result.non2xx} non-2xx, ${result.errors} connection errors/timeouts; ` +
          `status codes ${JSON.stringify(result.statusCodes ?? {})}`,
      );
      for (const sample of result.errorSamples ?? []) console.log(`  ${sample}`);
    }
    if (apiComplaints.length > 0) {
      console.log('\nthe API logged warnings/errors (count × what):');
      for (const { count, what } of apiComplaints.slice(0, 25)) console.log(`  ${count} × ${what}`);
    }

    await mkdir('bench/results', { recursive: true });
    const file = `bench/results/api-${new Date().toISOString().replaceAll(':', '-')}.json`;
    await writeFile(
      file,
      `${JSON.stringify(
        {
          scenario: 'api',
          at: new Date().toISOString(),
          machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
          connections: benchConnections,
          warmupSeconds: benchWarmup,
          durationSeconds: benchDuration,
          apiPoolMax: apiPoolMax ?? 'default',
          results,
          ratios,
          targets,
          apiLog: apiComplaints.slice(0, 20),
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${file}`);
  } finally {
    for (const child of children) await child.stop();
    await database.close();
    await resources.cleanup();
  }
}

/**
 * The API's warning and error log lines grouped by what went wrong: message, code, and the
 * driver's own error from the `caused by:` part of the stack, which says the actual SQL problem.
 * The child keeps at most its first 2,000 lines, so counts are of those.
 */
function summariseLog(lines: string[]): Array<{ count: number; what: string }> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    let what: string;
    try {
      const entry = JSON.parse(line) as {
        level?: number;
        msg?: string;
        code?: string;
        err?: { type?: string; message?: string; stack?: string };
      };
      if ((entry.level ?? 0) < 40) continue;
      const cause = /caused by: (.*)/.exec(entry.err?.stack ?? '')?.[1];
      what = [entry.msg, entry.code, entry.err?.type, cause ?? entry.err?.message?.split('\n')[0]]
        .filter(Boolean)
        .join(' | ');
    } catch {
      // Not pino JSON: a crash trace or a warning printed by node itself.
      if (!/warn|error/i.test(line)) continue;
      what = line;
    }
    what = what.slice(0, 300);
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts].map(([what, count]) => ({ count, what })).sort((a, b) => b.count - a.count);
}

/**
 * A WITH clause whose CTE `n` takes `count` reference numbers from the counter of tenant `tenant`
 * (both SQL text, usually parameters) as intake takes them: `counted + 1` to `counted + count`.
 */
const takeReferences = (tenant: string, count: string): string =>
  new PgDialect().sqlToQuery(
    sql`with ${takeReferenceNumbersSql('n', sql.raw(`values (${tenant}, ${count})`))}`,
  ).sql;
/** The reference of number `number` (SQL text) as intake writes it, as SQL text. */
const numberedReference = (number: string): string =>
  new PgDialect().sqlToQuery(complaintReferenceSql(sql.raw(number))).sql;

/** Plain complaints straight into the table, only so the GET run has rows to read. */
async function seedComplaints(databaseUrl: string, tenantId: string, count: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'redress-bench-seed' });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `${takeReferences('$1::uuid', '$2::bigint')}
       insert into complaints (id, tenant_id, reference, channel, subject, description, customer_name, customer_phone,
         received_at, received_by, assignee, event_sequence)
       select gen_random_uuid(), $1, ${numberedReference('n.counted + i')}, 'web', 'Seeded complaint ' || i,
         'Seeded for the read benchmark.', 'Wang Fang', '+86 138 0013 8000', now(), 'bench', 'bench', 1
       from n cross join generate_series(1, $2) as i
       returning id`,
      [tenantId, count],
    );
    return rows.map((row) => row.id);
  } finally {
    await client.end();
  }
}

function progress(result: LoadResult): void {
  console.log(
    `  ${result.name}: ${Math.round(result.requestsPerSecond).toLocaleString('en-US')}/s, ` +
      `p99 ${result.p99.toFixed(1)} ms, ${result.non2xx + result.errors} errors`,
  );
}

interface DeadlineTemplate {
  kind: string;
  clock: string;
  target_duration: string | null;
  duration_ms: string;
  warn_fractions: number[];
  policy_id: string | null;
  policy_version: number | null;
  calendar_id: string | null;
}

/**
 * The deadlines one API intake opened for a web complaint, copied from the rows the create run
 * wrote, so the raw baseline inserts what the API inserts even as SLA policies change.
 */
async function intakeTemplate(pool: pg.Pool): Promise<DeadlineTemplate[]> {
  const { rows } = await pool.query<DeadlineTemplate>(
    `select kind, clock, target_duration, duration_ms, warn_fractions, policy_id, policy_version, calendar_id
     from deadlines where complaint_id = (select id from complaints order by created_at limit 1)
     order by kind`,
  );
  return rows;
}

/** What autovacuum's analyse would have done by now for the tables intake writes and reads. */
async function analyzeIntakeTables(pool: pg.Pool): Promise<void> {
  await pool.query('analyze complaints, deadlines, complaint_timeline, events, idempotency_keys');
}

type Actor = { type: string; id: string; name: string; onBehalfOf: null };

/**
 * One intake transaction with the rows src/modules/complaints/complaints.service.ts create()
 * writes: the complaint numbered from the tenant's reference counter, then (with `everything`) its
 * deadlines, the timeline entry, and (with `everything`) the complaint.created event. One plain
 * statement per table, as drizzle's query builder issues them, RETURNING included; if the API
 * folds them into fewer round trips it can beat this baseline, which is worth knowing too. The
 * reference number is taken first, as intake takes it (takeReferenceNumbers).
 */
function rawIntake(pool: pg.Pool, tenantId: string, actor: Actor, intake: DeadlineTemplate[]) {
  const numbers = drizzle(pool, { schema });
  let n = 0;
  return async (everything: boolean): Promise<void> => {
    const body = complaintBody(++n);
    const now = new Date();
    // Before its connection is taken: the numbers come on one of their own.
    const counted = await takeReferenceNumbers(numbers, new Map([[tenantId, 1]]));
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query(
        `insert into complaints (id, tenant_id, reference, status, channel, severity, priority, category, subject,
           description, customer_name, customer_phone, customer_email, customer_address, customer_external_id,
           desired_outcome, occurred_at, received_at, received_by, assignee, escalation_level, external_ref, tags,
           metadata, version, event_sequence, created_at, updated_at)
         values ($1, $2, ${numberedReference('$3::bigint')}, default, $4, $5, $6, $7, $8, $9, $10, $11,
           $12, $13, $14, $15, $16, $17, $18, $19, default, $20, $21, $22, default, $23, $24, $25)
         on conflict (tenant_id, external_ref) where external_ref is not null do nothing
         returning *`,
        [
          randomUUID(),
          tenantId,
          (counted.get(tenantId)! + 1n).toString(),
          body.channel,
          'general',
          'normal',
          body.category,
          body.subject,
          body.description,
          body.customer.name,
          body.customer.phone,
          null,
          null,
          null,
          null,
          null,
          now,
          actor.name,
          actor.name,
          null,
          '{}',
          '{}',
          1,
          now,
          now,
        ],
      );
      const complaint = rows[0];
      const view = {
        id: complaint.id,
        reference: complaint.reference,
        status: complaint.status,
        channel: complaint.channel,
        severity: complaint.severity,
        priority: complaint.priority,
        category: complaint.category,
        subject: complaint.subject,
        description: complaint.description,
        customer: { name: complaint.customer_name, phone: complaint.customer_phone },
        receivedAt: now.toISOString(),
        receivedBy: complaint.received_by,
        assignee: complaint.assignee,
        tags: complaint.tags,
        metadata: complaint.metadata,
        version: complaint.version,
        createdAt: now.toISOString(),
        updatedAt: now.toISOString(),
      };
      if (everything && intake.length > 0) {
        const values: unknown[] = [];
        const tuples = intake.map((deadline) => {
          const spanMs = Number(deadline.duration_ms);
          const warnAts = deadline.warn_fractions.map(
            (fraction) => new Date(now.getTime() + spanMs * fraction),
          );
          const row = [
            randomUUID(),
            tenantId,
            complaint.id,
            deadline.kind,
            'pending',
            now,
            new Date(now.getTime() + spanMs),
            warnAts,
            deadline.warn_fractions,
            deadline.clock,
            deadline.target_duration,
            spanMs,
            deadline.policy_id,
            deadline.policy_version,
            deadline.calendar_id,
            null,
            now,
            now,
          ];
          const first = values.length;
          values.push(...row);
          const p = (i: number) => `$${first + i + 1}`;
          return `(${p(0)}, ${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, default, ${p(9)},
            ${p(10)}, ${p(11)}, default, default, default, default, default, ${p(12)}, ${p(13)}, ${p(14)}, ${p(15)},
            ${p(16)}, ${p(17)})`;
        });
        await client.query(
          `insert into deadlines (id, tenant_id, complaint_id, kind, status, starts_at, due_at, warn_ats, warn_fractions,
             warnings_fired, clock, target_duration, duration_ms, remaining_ms, paused_at, met_at, breached_at,
             cancelled_at, policy_id, policy_version, calendar_id, source_id, created_at, updated_at)
           values ${tuples.join(', ')} returning *`,
          values,
        );
      }
      await client.query(
        `insert into complaint_timeline (id, tenant_id, complaint_id, type, actor_type, actor_id, actor_name,
           actor_on_behalf_of, changes, data, occurred_at)
         values (default, $1, $2, $3, $4, $5, $6, $7, default, $8, $9)`,
        [
          tenantId,
          complaint.id,
          'complaint.created',
          actor.type,
          actor.id,
          actor.name,
          actor.onBehalfOf,
          // As intake keeps it: only what later changes do not record (takenInEntryData).
          JSON.stringify({
            complaint: {
              status: view.status,
              version: view.version,
              updatedAt: view.updatedAt,
              rejection: null,
              acceptanceOverride: null,
              majorSince: null,
              escalationLevel: 0,
              nextDeadline: null,
            },
          }),
          now,
        ],
      );
      if (everything) {
        await client.query(
          `insert into events (position, id, tenant_id, type, complaint_id, sequence, reference, data, occurred_at)
           values (default, $1, $2, $3, $4, $5, $6, $7, $8) returning *`,
          [
            `evt_${randomBase62(24)}`,
            tenantId,
            'complaint.created',
            complaint.id,
            1,
            complaint.reference,
            JSON.stringify({ complaint: view, actor }),
            now,
          ],
        );
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  };
}
