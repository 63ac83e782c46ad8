/**
 * Builds the scale scenario's tenants. The small tenant's complaints are taken in and handled
 * through the real API, so every row, deadline, timeline entry and event is what the product
 * writes, breaches recorded by the real worker included. The large tenants are those complaints
 * cloned in SQL, with every row hanging off them, ids, references, dates and customers varied,
 * to 10k, 100k and 1M complaints.
 */
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { PgDialect } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { complaintReferenceSql } from '../src/modules/complaints/complaint-reference.js';
import { customerIdentityKey } from '../src/modules/major-complaints/major-rules.js';
import { createReportCounts } from '../src/modules/reports/report-counts.js';
import { sleep } from './lib.js';

/** A tenant of the scenario, with the key the benchmark calls its API with. */
export interface ScaleTenant {
  label: string;
  name: string;
  size: number;
  tenantId: string;
  key: string;
}

/** The category only a handful of complaints have, and then with the channel fax. */
export const RARE_CATEGORY = 'accessibility';
/** A word in about a third of the complaints (English ones), for the search of a common word. */
export const COMMON_WORD = 'refund';
/** Two characters in the Chinese refund complaints, for the short search the trigram index cannot serve. */
export const CHINESE_WORD = '退款';
/** Years of history the clones' receipt dates spread over, so one month is 1/36 of it. */
export const HISTORY_YEARS = 3;

/** Channels weighted as complaints arrive: mostly web, phone and app, fax the rarest. */
const CHANNELS: string[] = [
  ...Array<string>(30).fill('web'),
  ...Array<string>(25).fill('phone'),
  ...Array<string>(20).fill('app'),
  ...Array<string>(10).fill('email'),
  ...Array<string>(5).fill('chat'),
  ...Array<string>(3).fill('letter'),
  ...Array<string>(2).fill('social_media'),
  ...Array<string>(2).fill('walk_in'),
  'online_forum',
  'partner_api',
  'fax',
];
const CATEGORIES = [
  'billing',
  'delivery',
  'product_quality',
  'service_attitude',
  'refund',
  'installation',
  'network',
  'contract',
];
const HANDLERS = [
  'li.na',
  'wang.wei',
  'zhang.min',
  'liu.yang',
  'chen.jing',
  'yang.lei',
  'zhao.li',
  'huang.tao',
];
const NAMES = ['Wang Fang', '李娜', 'Zhang Wei', '刘洋', 'Chen Jing', '杨磊', 'Emma Brown', '赵丽'];
const TEXTS: Array<{ subject: string; description: string }> = [
  {
    subject: 'Charged twice for the November invoice',
    description: 'My card was charged twice on 3 November for the same invoice. Please refund one payment.',
  },
  { subject: '申请退款：重复扣费', description: '同一张账单在11月3日被扣款两次，请尽快退款并说明原因。' },
  {
    subject: 'Parcel arrived damaged',
    description: 'The box was crushed and the kettle inside is dented. I want a replacement or a refund.',
  },
  { subject: '送货延迟三天', description: '订单承诺两天送达，实际晚了三天，期间客服电话一直打不通。' },
  {
    subject: 'Rude staff at the service desk',
    description: 'The agent at the Xuhui branch raised his voice and refused to log my problem.',
  },
  { subject: '宽带网络频繁断线', description: '最近一周每天晚上八点到十点宽带断线，影响孩子上网课。' },
  {
    subject: 'Wrong item delivered',
    description: 'I ordered the blue model and received the grey one. I asked for an exchange, not a refund.',
  },
  {
    subject: '产品质量问题，要求退款',
    description: '新买的吹风机用了三次就坏了，门店拒绝退款，只同意维修。',
  },
  {
    subject: 'Installation appointment missed',
    description: 'The technician did not come on Saturday and nobody called to rebook the installation.',
  },
  { subject: '合同条款与宣传不符', description: '签约时承诺的优惠在账单上没有体现，要求按宣传内容执行。' },
  {
    subject: 'Refund still not received',
    description: 'The refund was approved three weeks ago but the money has not reached my account.',
  },
  { subject: '客服态度恶劣', description: '多次来电咨询，客服不耐烦并直接挂断电话。' },
];

type Ending =
  | 'received'
  | 'acknowledged'
  | 'investigating'
  | 'awaiting_customer'
  | 'closed'
  | 'closed_after_follow_up'
  | 'reopened_then_closed';

interface SeedPlan {
  body: Record<string, unknown>;
  ending: Ending;
  major: boolean;
  /** The complaint that is fax and the rare category at once: cloned sparingly (see planClones). */
  rare: boolean;
  /** The customer calls back while it is handled, and is answered. */
  inbound: boolean;
}

/**
 * The n-th seed complaint and how far its life cycle goes: about 97 % end closed
 * (mostly after a satisfied follow-up visit, some closed directly, a few reopened by an
 * unsatisfied customer and resolved again) and 3 % stay open. About 15 % arrive backdated, so the
 * real worker breaches their first-contact (and some their resolution) deadlines before anyone
 * acts; 1 % are safety complaints, major at intake.
 */
function seedPlan(n: number): SeedPlan {
  const r = n % 100;
  const ending: Ending =
    r === 0
      ? Math.floor(n / 100) % 2 === 0
        ? 'received'
        : 'acknowledged'
      : r === 1
        ? 'investigating'
        : r === 2
          ? 'awaiting_customer'
          : r % 10 === 3
            ? 'closed'
            : r === 47 || r === 97
              ? 'reopened_then_closed'
              : 'closed_after_follow_up';
  const open = r <= 2;
  const backdateHours = open
    ? Math.floor(n / 100) % 2 === 1
      ? 50
      : 0
    : r % 20 === 9
      ? 24 * 12
      : r % 10 === 5
        ? 50
        : 0;
  const rare = n === 17;
  const major = r === 50;
  let channel = CHANNELS[(n * 7) % CHANNELS.length]!;
  let category = n % 50 === 21 ? RARE_CATEGORY : CATEGORIES[(n * 3) % CATEGORIES.length]!;
  if (rare) {
    channel = 'fax';
    category = RARE_CATEGORY;
  } else if (channel === 'fax' && category === RARE_CATEGORY) {
    category = 'billing';
  }
  if (major) category = 'safety';
  const text = TEXTS[(n * 5) % TEXTS.length]!;
  const handler = HANDLERS[n % HANDLERS.length]!;
  const body: Record<string, unknown> = {
    channel,
    category,
    priority: n % 9 === 0 ? 'high' : 'normal',
    subject: text.subject,
    description: text.description,
    // A phone of its own for every seed: one customer twice in a category is a repeat complaint.
    customer: {
      name: NAMES[n % NAMES.length],
      phone: `+86 138 ${String(n).padStart(8, '0')}`,
    },
    receivedBy: handler,
    assignee: handler,
    tags: n % 4 === 0 ? ['vip'] : [],
  };
  if (n % 2 === 0) body.externalRef = `CRM-${n}`;
  if (backdateHours > 0) body.receivedAt = new Date(Date.now() - backdateHours * 3_600_000).toISOString();
  return { body, ending, major, rare, inbound: n % 3 === 0 };
}

/** A JSON call to the API that must answer 2xx. */
function apiCaller(base: string, key: string) {
  return async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  };
}

async function inParallel<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Takes in `count` seed complaints of a tenant through the API and drives each through its life
 * cycle. The worker must be running: it breaches the backdated complaints' deadlines, which this
 * waits for before anyone acts on them, as a handler who is late would find them.
 */
export async function seedThroughApi(
  base: string,
  tenant: ScaleTenant,
  count: number,
  pool: pg.Pool,
): Promise<void> {
  const call = apiCaller(base, tenant.key);
  const plans = Array.from({ length: count }, (_, n) => seedPlan(n));
  const ids = new Map<SeedPlan, string>();
  await inParallel(plans, 6, async (plan) => {
    const created = await call('POST', '/v1/complaints', plan.body);
    ids.set(plan, created.id as string);
  });
  await waitForWorker(pool, tenant.tenantId);

  const followUpOf = async (complaintId: string): Promise<string> => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const { rows } = await pool.query<{ id: string }>(
        `select id from follow_ups where tenant_id = $1 and complaint_id = $2 and status = 'pending'`,
        [tenant.tenantId, complaintId],
      );
      if (rows[0]) return rows[0].id;
      await sleep(100);
    }
    throw new Error(`no pending follow-up for complaint ${complaintId}`);
  };
  const move = (id: string, to: string, reason?: string) =>
    call('POST', `/v1/complaints/${id}/transitions`, reason ? { to, reason } : { to });

  await inParallel(plans, 6, async (plan) => {
    const id = ids.get(plan)!;
    if (plan.major) {
      const { data } = (await call('GET', `/v1/complaints/${id}/deadlines`)) as {
        data: Array<{ id: string; kind: string; status: string }>;
      };
      const report = data.find((d) => d.kind === 'major_report' && d.status === 'pending');
      if (report) await call('POST', `/v1/complaints/${id}/deadlines/${report.id}/complete`);
    }
    if (plan.ending === 'received') return;
    await call('POST', `/v1/complaints/${id}/communications`, {
      direction: 'outbound',
      channel: 'phone',
      body: 'Called the customer, apologised and explained the next steps.',
      contactMade: true,
    });
    await move(id, 'acknowledged');
    if (plan.ending === 'acknowledged') return;
    if (plan.inbound) {
      await call('POST', `/v1/complaints/${id}/communications`, {
        direction: 'inbound',
        channel: 'phone',
        body: 'The customer called back to ask how long it will take.',
        contactMade: true,
      });
      await call('POST', `/v1/complaints/${id}/communications`, {
        direction: 'outbound',
        channel: 'phone',
        body: 'Told the customer we expect an answer from the warehouse this week.',
        contactMade: true,
      });
    }
    await move(id, 'investigating');
    if (plan.ending === 'investigating') return;
    if (plan.ending === 'awaiting_customer') {
      await move(id, 'awaiting_customer');
      return;
    }
    await move(id, 'resolved');
    if (plan.ending === 'closed') {
      await move(id, 'closed');
      return;
    }
    if (plan.ending === 'reopened_then_closed') {
      await call('POST', `/v1/follow-ups/${await followUpOf(id)}/outcome`, {
        outcome: 'unsatisfied',
        score: 2,
        comment: 'The refund was smaller than promised.',
      });
      await move(id, 'resolved');
    }
    await call('POST', `/v1/follow-ups/${await followUpOf(id)}/outcome`, {
      outcome: 'satisfied',
      score: 3 + (id.charCodeAt(0) % 3),
      contactedBy: 'follow-up team',
    });
  });
  await waitForWorker(pool, tenant.tenantId);
}

/** Waits until the worker has recorded every warning and breach already due, and relayed every event. */
async function waitForWorker(pool: pg.Pool, tenantId: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    const { rows } = await pool.query<{ due: number; unrelayed: number }>(
      `select (select count(*) from deadlines where tenant_id = $1 and status = 'pending'
                and least(warn_ats[warnings_fired + 1], due_at) < now() - interval '1 second')::int as due,
              (select count(*) from event_outbox)::int as unrelayed`,
      [tenantId],
    );
    if (rows[0]!.due === 0 && rows[0]!.unrelayed === 0) return;
    if (Date.now() - started > 120_000) {
      throw new Error(
        `the worker left ${rows[0]!.due} deadlines due and ${rows[0]!.unrelayed} events unrelayed`,
      );
    }
    await sleep(250);
  }
}

/** Tables whose rows belong to one complaint, found by their complaint_id column. */
async function complaintTables(client: pg.Client): Promise<string[]> {
  // Not the inventory's marks and notes: they are counted from the copies' rows (the copies'
  // triggers note each one, and the fold reads them), not copied from the seed's.
  const { rows } = await client.query<{ table_name: string }>(
    `select c.table_name from information_schema.columns c
     join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = 'public' and c.column_name = 'complaint_id' and t.table_type = 'BASE TABLE'
       and c.table_name not like 'report\\_inventory\\_%'
     order by c.table_name`,
  );
  return rows.map((row) => row.table_name);
}

interface Column {
  name: string;
  udt: string;
  identity: boolean;
}

async function columnsOf(client: pg.Client, table: string): Promise<Column[]> {
  const { rows } = await client.query<{ column_name: string; udt_name: string; is_identity: string }>(
    `select column_name, udt_name, is_identity from information_schema.columns
     where table_schema = 'public' and table_name = $1 order by ordinal_position`,
    [table],
  );
  return rows.map((row) => ({
    name: row.column_name,
    udt: row.udt_name,
    identity: row.is_identity === 'YES',
  }));
}

/** The tenant a copy is made for: its id, its admin key and its own copy of each tenant-level row. */
interface CloneTarget {
  tenantId: string;
  keyId: string;
  /** The seed tenant's policy, calendar and reply-template ids, to the target tenant's same-named ones. */
  objects: Map<string, string>;
}

/** Uuid columns naming the tenant's own set-up (SLA policy, calendar, reply template): mapped by name. */
const TENANT_OBJECT_COLUMNS = new Set(['policy_id', 'calendar_id', 'template_id']);
/** Uuid columns kept as they are (a ping's subscription: no complaint event has one). */
const KEPT_UUID_COLUMNS = new Set(['subscription_id']);
/**
 * Who did something (an ActorRecord, or a timeline entry's actor_id column): an API key's id
 * becomes the target tenant's key.
 */
const ACTOR_COLUMNS = new Set(['actor', 'recorded_by', 'declared_by']);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A uuid as an SQL literal; only ever ids read from the database, checked all the same. */
function uuidLiteral(value: string): string {
  if (!UUID.test(value)) throw new Error(`not a uuid: ${value}`);
  return `'${value}'::uuid`;
}

/**
 * The INSERT column list and SELECT expressions copying `src` (a seed row) as clone `m` of the
 * target tenant: timestamps moved by the clone's shift; every other uuid (a row's own id, the
 * deadline an escalation or follow-up names, the resolution a follow-up belongs to …) points
 * within the complaint and maps to the clone's copy by clone_uuid, the same on both sides;
 * `overrides` win (null: leave the column to its default).
 */
function cloneSelect(columns: Column[], target: CloneTarget, overrides: Record<string, string | null> = {}) {
  const names: string[] = [];
  const values: string[] = [];
  for (const column of columns) {
    const override = overrides[column.name];
    if (override === null || (override === undefined && column.identity)) continue;
    names.push(`"${column.name}"`);
    const from = `src."${column.name}"`;
    if (override !== undefined) values.push(override);
    else if (column.name === 'tenant_id') values.push(uuidLiteral(target.tenantId));
    else if (column.name === 'complaint_id') values.push('m.id');
    else if (TENANT_OBJECT_COLUMNS.has(column.name)) {
      const cases = [...target.objects]
        .map(([seed, own]) => `when ${uuidLiteral(seed)} then ${uuidLiteral(own)}`)
        .join(' ');
      values.push(cases ? `case ${from} ${cases} else ${from} end` : from);
    } else if (KEPT_UUID_COLUMNS.has(column.name)) values.push(from);
    else if (column.name === 'actor_id')
      values.push(`case when ${from} is null then null else ${uuidLiteral(target.keyId)} end`);
    else if (column.udt === 'uuid') values.push(`pg_temp.clone_uuid(${from}, m.id)`);
    else if (column.udt === 'timestamptz') values.push(`${from} + m.shift`);
    else if (column.udt === '_timestamptz')
      values.push(`array(select at + m.shift from unnest(${from}) as at)`);
    else if (column.udt === 'tstzrange')
      values.push(
        `case when isempty(${from}) then ${from} else tstzrange(lower(${from}) + m.shift, upper(${from}) + m.shift,
          (case when lower_inc(${from}) then '[' else '(' end) || (case when upper_inc(${from}) then ']' else ')' end)) end`,
      );
    else if (column.udt === 'jsonb' && ACTOR_COLUMNS.has(column.name)) {
      values.push(
        `case when ${from} ->> 'type' = 'api_key' then jsonb_set(${from}, '{id}', to_jsonb(${uuidLiteral(target.keyId)}::text)) else ${from} end`,
      );
    } else values.push(from);
  }
  return { names: names.join(', '), values: values.join(', ') };
}

const CLONE_CHUNK = 100_000;

/** Seconds each step of the build took, for the report. */
export type BuildTimings = Record<string, number>;

/**
 * Gives each target tenant `size` complaints by cloning the seed tenant's complaints, with every
 * row hanging off them; then rebuilds the indexes and analyses, as a database in service would
 * have. The targets hold only copies, so their history is spread as a real one is (the seeds
 * themselves all arrived in the last days).
 */
export async function cloneToSize(
  client: pg.Client,
  seed: ScaleTenant,
  targets: ScaleTenant[],
  options: { eventRetentionDays: number; log: (line: string) => void },
): Promise<BuildTimings> {
  const timings: BuildTimings = {};
  const step = async (name: string, work: () => Promise<void>) => {
    const started = performance.now();
    await work();
    timings[name] = (performance.now() - started) / 1000;
    options.log(`  ${name}: ${timings[name]!.toFixed(1)} s`);
  };
  const { rows: role } = await client.query<{ super: boolean }>(
    'select rolsuper as super from pg_roles where rolname = current_user',
  );
  if (!role[0]?.super) {
    throw new Error(
      'the scale scenario clones rows as a superuser (session_replication_role); connect as one',
    );
  }
  // Clones are history: rows the product wrote long ago, long since relayed. As `replica`, the
  // session fires no ordinary triggers: the events outbox trigger does not list the clones' events
  // for the relay (nor NOTIFY it), and foreign keys are not checked row by row (every clone points
  // at its own cloned rows or at its tenant's, which exist).
  await client.query('set session_replication_role = replica');
  await client.query(`set work_mem = '256MB'`);
  await client.query(`set maintenance_work_mem = '1GB'`);
  // A copy's ids: random-looking, stable per (seed row, clone), a valid version-4 UUID (the API's
  // response schemas check that), so a row and every row pointing at it map the same way.
  await client.query(`
    create function pg_temp.clone_uuid(old uuid, clone uuid) returns uuid language sql immutable strict as $$
      select overlay(overlay(md5(old::text || clone::text) placing '4' from 13) placing '8' from 17)::uuid
    $$`);

  const tables = (await complaintTables(client)).filter((table) => table !== 'events');
  const allTables = ['complaints', 'events', ...tables, 'resolution_options'];

  await step('copy the seeds aside', async () => {
    for (const table of ['complaints', 'events', ...tables]) {
      await client.query(
        `create temp table "seed_${table}" as select * from "${table}" where tenant_id = $1`,
        [seed.tenantId],
      );
    }
    await client.query(
      `create temp table seed_resolution_options as
       select o.* from resolution_options o join seed_resolutions r on r.id = o.resolution_id`,
    );
    // Per seed: whether it is open, and how long its handling took (a closed copy must have
    // finished before now).
    await client.query(
      `create temp table clone_seeds as
       select c.id as seed_id, c.received_at, c.channel = 'fax' and c.category = $1 as rare,
         c.status in ('received', 'acknowledged', 'investigating', 'awaiting_customer') as open,
         greatest(interval '0', (select max(t.occurred_at) from seed_complaint_timeline t where t.complaint_id = c.id)
           - c.received_at) as span
       from seed_complaints c`,
      [RARE_CATEGORY],
    );
    for (const table of [...allTables, 'clone_seeds']) {
      await client.query(`analyze "${table.startsWith('clone') ? table : `seed_${table}`}"`);
    }
  });

  // Secondary indexes are dropped for the load and built again after it, from their own
  // definitions: building an index once is far cheaper than keeping it up to date row by row
  // (the trigram indexes above all). Primary keys and constraints stay.
  const indexes: Array<{ name: string; definition: string }> = [];
  await step('drop secondary indexes', async () => {
    const { rows } = await client.query<{ name: string; definition: string }>(
      `select i.relname as name, pg_get_indexdef(i.oid) as definition
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
       join pg_namespace n on n.oid = t.relnamespace
       where n.nspname = 'public' and t.relname = any($1)
         and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`,
      [allTables],
    );
    indexes.push(...rows);
    for (const index of rows) await client.query(`drop index "${index.name}"`);
  });

  // A copy's open stretches are its seed's, moved in time like every instant of it
  // (complaint_open_spans is cloned with the rows hanging off complaints), so the trigger that
  // opens one at intake stays out of the load.
  await client.query('alter table complaints disable trigger complaints_open_spans_inserted');
  const { rows: seeds } = await client.query<{ seed_id: string; rare: boolean }>(
    'select seed_id, rare from clone_seeds order by seed_id',
  );
  const reference = new PgDialect().sqlToQuery(complaintReferenceSql(sql.raw('m.ref_number'))).sql;
  for (const tenant of targets) {
    const target = await cloneTarget(client, seed.tenantId, tenant.tenantId);
    await step(`clone ${tenant.label}`, async () => {
      await planClones(client, tenant, seeds);
      const complaintColumns = cloneSelect(await columnsOf(client, 'complaints'), target, {
        id: 'm.id',
        reference,
        // Every copy is another customer: names from common surnames and given names, its own phone.
        customer_name: `case when src.customer_name is null then null else
          (array['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙','马','朱','胡','郭','何','高','林','罗'])[1 + m.idx % 20]
          || (array['芳','伟','娜','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明','超','秀英','霞','平'])[1 + (m.idx / 20) % 20]
          end`,
        customer_phone: `case when src.customer_phone is null then null else '+86 139 ' || lpad(m.idx::text, 8, '0') end`,
        customer_email: `case when src.customer_email is null then null else 'customer' || m.idx || '@example.com' end`,
        customer_external_id: `case when src.customer_external_id is null then null else 'CUST-' || m.idx end`,
        // customerIdentityKey (major-rules.ts) of the copy's customer; checkCustomerKeys holds
        // the two to each other.
        customer_key: `case
          when src.customer_key is null then null
          when src.customer_external_id is not null then 'ext:CUST-' || m.idx
          when src.customer_phone is not null then 'tel:+86139' || lpad(m.idx::text, 8, '0')
          when src.customer_email is not null then 'email:customer' || m.idx || '@example.com'
          end`,
        external_ref: `case when src.external_ref is null then null else 'EXT-' || m.ref_number end`,
      });
      // An open copy moved back in time has deadlines that fell due meanwhile: the worker would
      // have breached them (and recorded their warnings) as they did, so the copy says so, and the
      // run's worker finds nothing overdue to catch up on.
      const overdue = `src.status = 'pending' and src.due_at + m.shift <= now()`;
      const childColumns = new Map<string, { names: string; values: string }>();
      for (const table of [...tables, 'resolution_options']) {
        childColumns.set(
          table,
          cloneSelect(
            await columnsOf(client, table),
            target,
            table === 'deadlines'
              ? {
                  status: `case when ${overdue} then 'breached'::deadline_status else src.status end`,
                  breached_at: `case when ${overdue} then src.due_at + m.shift else src.breached_at + m.shift end`,
                  warnings_fired: `case when src.status = 'pending' then greatest(src.warnings_fired,
                    (select count(*) from unnest(src.warn_ats) as at where at + m.shift <= now()))::smallint
                    else src.warnings_fired end`,
                }
              : table === 'complaint_timeline'
                ? {
                    // An entry the seed kept in its old form names its communication in `data`, and the
                    // copy names the communication the clone copied (subject_id is a uuid column,
                    // which every clone maps).
                    data: `case when src.type = 'communication.recorded' and src.data ? 'communicationId' then jsonb_set(src.data, '{communicationId}',
                      to_jsonb(pg_temp.clone_uuid((src.data ->> 'communicationId')::uuid, m.id))) else src.data end`,
                  }
                : {},
          ),
        );
      }
      // The feed keeps events for EVENT_RETENTION_DAYS and the worker purges older ones, so only
      // the copies' events inside that window exist in service: those are cloned, in time order.
      // Their columns name the copy; the complaint inside their data is the seed's as it was then.
      const eventColumns = cloneSelect(await columnsOf(client, 'events'), target, {
        id: `'evt_' || left(translate(encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'base64'), '+/=', 'xyz'), 24)`,
        reference,
        data: `jsonb_set(jsonb_set(src.data, '{complaint,id}', to_jsonb(m.id), false),
          '{complaint,reference}', to_jsonb(${reference}), false)`,
      });

      const { rows: chunkRows } = await client.query<{ chunks: number }>(
        'select coalesce(max(chunk) + 1, 0)::int as chunks from clone_map',
      );
      const chunks = chunkRows[0]!.chunks;
      for (let chunk = 0; chunk < chunks; chunk++) {
        const started = performance.now();
        await client.query('begin');
        await client.query(
          `insert into complaints (${complaintColumns.names})
           select ${complaintColumns.values} from clone_map m join seed_complaints src on src.id = m.seed_id
           where m.chunk = $1`,
          [chunk],
        );
        for (const table of tables) {
          const columns = childColumns.get(table)!;
          // Identity-numbered tables (the timeline) keep each complaint's rows in their order.
          const order = (await hasIdentityId(client, table)) ? 'order by m.ref_number, src.id' : '';
          await client.query(
            `insert into "${table}" (${columns.names})
             select ${columns.values} from clone_map m join "seed_${table}" src on src.complaint_id = m.seed_id
             where m.chunk = $1 ${order}`,
            [chunk],
          );
        }
        const optionColumns = childColumns.get('resolution_options')!;
        await client.query(
          `insert into resolution_options (${optionColumns.names})
           select ${optionColumns.values} from clone_map m join seed_resolutions r on r.complaint_id = m.seed_id
           join seed_resolution_options src on src.resolution_id = r.id
           where m.chunk = $1`,
          [chunk],
        );
        await client.query(
          `insert into events (${eventColumns.names})
           select ${eventColumns.values} from clone_map m join seed_events src on src.complaint_id = m.seed_id
           where m.chunk = $1 and src.occurred_at + m.shift >= now() - $2 * interval '1 day'
           order by src.occurred_at + m.shift, src.position`,
          [chunk, options.eventRetentionDays],
        );
        await client.query('commit');
        if (chunks > 1) {
          options.log(
            `    chunk ${chunk + 1}/${chunks}: ${((performance.now() - started) / 1000).toFixed(1)} s`,
          );
        }
      }
      // Their places in the tenant's feed, after any it has, as the relay would have given them.
      await client.query(
        `with placed as (
           insert into event_feed (tenant_id, feed_position, event_position, type)
           select e.tenant_id, (select coalesce(max(f.feed_position), 0) from event_feed f where f.tenant_id = $1)
               + row_number() over (order by e.position), e.position, e.type
           from events e
           where e.tenant_id = $1 and e.subscription_id is null
             and not exists (select 1 from event_feed f where f.tenant_id = $1 and f.event_position = e.position)
           returning feed_position)
         insert into event_feed_heads (tenant_id, last_position)
         select $1, max(feed_position) from placed having count(*) > 0
         on conflict (tenant_id) do update set last_position = excluded.last_position`,
        [tenant.tenantId],
      );
      await checkCustomerKeys(client, tenant.tenantId);
      // Intake numbers on from the highest reference the copies took.
      await client.query(
        `insert into complaint_reference_counters (tenant_id, last_number)
         select $1, max(ref_number) from clone_map having count(*) > 0
         on conflict (tenant_id) do update set last_number = excluded.last_number`,
        [tenant.tenantId],
      );
    });
  }

  await client.query('alter table complaints enable always trigger complaints_open_spans_inserted');
  await step(`rebuild ${indexes.length} indexes`, async () => {
    for (const index of indexes) await client.query(index.definition);
  });
  // In service the worker folds the report counts' changes every minute; the copies wrote theirs
  // all at once. After the indexes: the inventory's fold reads each complaint's deadlines by them.
  await step('fold report counts', async () => {
    await createReportCounts(drizzle(client)).fold();
  });
  await client.query('set session_replication_role = origin');
  // The fold emptied the change queues, whose tables and indexes had grown to hold a million
  // copies' changes at once. In service they hold a minute's changes, and vacuum reuses the
  // space; here it would be counted as storage per complaint (about 0.2 kB), so it goes back.
  await step('compact the emptied change queues', async () => {
    await client.query(
      'vacuum full report_deadline_changes, report_follow_up_changes, report_inventory_touches, deadline_breach_changes',
    );
  });
  // The server may run with autovacuum off (this project's CI machines do); in service it would
  // have analysed these tables, and vacuumed them (the visibility map index-only scans need).
  await step('vacuum analyze', async () => {
    await client.query('vacuum (analyze)');
  });
  return timings;
}

/** The target tenant's admin key and its own copies of the seed tenant's policies, calendars and templates. */
async function cloneTarget(client: pg.Client, seedTenantId: string, tenantId: string): Promise<CloneTarget> {
  const { rows: keys } = await client.query<{ id: string }>(
    'select id from api_keys where tenant_id = $1 order by created_at limit 1',
    [tenantId],
  );
  const { rows: objects } = await client.query<{ seed: string; own: string }>(
    `select a.id as seed, b.id as own from sla_policies a join sla_policies b on b.name = a.name
       where a.tenant_id = $1 and b.tenant_id = $2
     union all
     select a.id, b.id from calendars a join calendars b on b.name = a.name
       where a.tenant_id = $1 and b.tenant_id = $2
     union all
     select a.id, b.id from reply_templates a join reply_templates b on b.key = a.key and b.locale = a.locale
       where a.tenant_id = $1 and b.tenant_id = $2`,
    [seedTenantId, tenantId],
  );
  if (!keys[0]) throw new Error(`tenant ${tenantId} has no API key`);
  return { tenantId, keyId: keys[0].id, objects: new Map(objects.map((row) => [row.seed, row.own])) };
}

/**
 * The copies a tenant gets (clone_map): `size` in all, each seed about equally often, but the fax
 * complaint in the rare category only about once in 20,000. Closed copies spread evenly over the
 * history; open ones over the last 30 days, as open complaints are the recent ones. References
 * number them in order of receipt, after any the tenant already has.
 */
async function planClones(
  client: pg.Client,
  tenant: ScaleTenant,
  seeds: Array<{ seed_id: string; rare: boolean }>,
): Promise<void> {
  const rare = seeds.filter((s) => s.rare);
  const common = seeds.filter((s) => !s.rare);
  const rareCopies = Math.min(tenant.size, Math.max(1, Math.round(tenant.size / 20_000)));
  const rest = tenant.size - rare.length * rareCopies;
  const copies = [
    ...rare.map(() => rareCopies),
    ...common.map((_, i) => Math.floor(rest / common.length) + (i < rest % common.length ? 1 : 0)),
  ];
  const { rows } = await client.query<{ base: string }>(
    `select coalesce((select last_number from complaint_reference_counters where tenant_id = $1), 0)::text as base`,
    [tenant.tenantId],
  );
  await client.query('drop table if exists clone_map');
  await client.query(
    `create temp table clone_map as
     select seed_id, id, shift, $3::bigint + idx as ref_number, idx, (idx - 1) / ${CLONE_CHUNK} as chunk
     from (
       select *, row_number() over (order by received_at + shift) as idx
       from (
         select s.seed_id, s.received_at, gen_random_uuid() as id,
           case when s.open then -(random() * interval '30 days')
             else now() - interval '${HISTORY_YEARS} years'
               + random() * (interval '${HISTORY_YEARS} years' - s.span - interval '1 hour') - s.received_at
           end as shift
         from clone_seeds s join unnest($1::uuid[], $2::int[]) as k(seed_id, copies) on k.seed_id = s.seed_id
         cross join generate_series(1, k.copies)
       ) planned
     ) numbered`,
    [[...rare, ...common].map((s) => s.seed_id), copies, rows[0]!.base],
  );
  await client.query('create index on clone_map (chunk)');
  await client.query('analyze clone_map');
}

/** The copies' customer keys are the ones intake would give their customers (repeat complaints find them). */
async function checkCustomerKeys(client: pg.Client, tenantId: string): Promise<void> {
  const { rows } = await client.query<{
    customer_external_id: string | null;
    customer_phone: string | null;
    customer_email: string | null;
    customer_key: string | null;
  }>(
    `select customer_external_id, customer_phone, customer_email, customer_key
     from complaints where tenant_id = $1 and id in (select id from clone_map order by random() limit 200)`,
    [tenantId],
  );
  for (const row of rows) {
    const expected = customerIdentityKey({
      externalId: row.customer_external_id,
      phone: row.customer_phone,
      email: row.customer_email,
    });
    if (row.customer_key !== expected) {
      throw new Error(`a copy's customer key is '${row.customer_key}', intake would give '${expected}'`);
    }
  }
}

async function hasIdentityId(client: pg.Client, table: string): Promise<boolean> {
  const { rowCount } = await client.query(
    `select 1 from information_schema.columns
     where table_schema = 'public' and table_name = $1 and column_name = 'id' and is_identity = 'YES'`,
    [table],
  );
  return (rowCount ?? 0) > 0;
}
