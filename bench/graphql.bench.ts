/**
 * GraphQL scenario: one page of 50 complaints with all their deadlines, read through the real API
 * (a child process, as deployed) over GraphQL and over REST, in the same run.
 *
 * The fair REST equivalent of that one GraphQL request is what a REST client must do for the same
 * data: `GET /v1/complaints?limit=50` and then `GET /v1/complaints/{id}/deadlines` for each of the
 * 50 complaints, 51 requests a page (REST has no batch read of deadlines). Both return the same
 * fields: the GraphQL query selects every field REST answers with, and the run checks the two
 * answers are equal before it measures. The target compares pages per second. REST's list alone
 * (no deadlines beyond `nextDeadline`) is measured as well, as the cost floor of one round trip.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { createDatabase } from '../src/db/client.js';
import { systemClock } from '../src/lib/clock.js';
import { createServices } from '../src/services.js';
import { COMPLAINT_FIELDS } from '../test/complaint-fields.js';
import {
  apiEnv,
  benchConnections,
  benchDuration,
  benchResources,
  benchWarmup,
  type Child,
  freePort,
  type LoadResult,
  load,
  noiseWarnings,
  resultsTable,
  startChild,
  table,
  verdict,
} from './lib.js';

const PAGE = 50;
/** Complaints in the tenant: the page read is the newest 50 of them. */
const COMPLAINTS = 500;
const TARGET_RATIO = 0.7;

const QUERY = `query Page($first: Int!) {
  complaints(first: $first) {
    nodes {
      ${COMPLAINT_FIELDS}
      deadlines {
        id complaintId kind status startsAt dueAt warnAts warningsFired clock targetDuration remainingMs
        pausedAt metAt breachedAt cancelledAt metLate policyId policyVersion createdAt
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

const complaintBody = (n: number) => ({
  channel: n % 3 === 0 ? 'phone' : 'web',
  category: 'billing',
  subject: `Charged twice for the November bill #${n}`,
  description: 'My card was charged twice on 3 November for the same invoice. Please refund one payment.',
  customer: { name: 'Wang Fang', phone: '+86 138 0013 8000', externalId: `CRM-${n}` },
  tags: ['billing'],
});

export async function runGraphqlBenchmark(): Promise<void> {
  const resources = await benchResources('graphql');
  const database = createDatabase({
    url: resources.databaseUrl,
    poolMax: 2,
    applicationName: 'redress-bench',
  });
  const children: Child[] = [];
  try {
    const services = createServices({ db: database.db, clock: systemClock, scheduler: null });
    const { plaintextKey } = await services.tenancy.createTenant('Bench');
    const port = await freePort();
    // Opt-in, as in the api scenario: a .cpuprofile of the API, written when it stops.
    const profileDir = process.env.BENCH_CPU_PROF;
    const api = await startChild(
      'src/main.ts',
      apiEnv(resources, port),
      () => false,
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    );
    children.push(api);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${plaintextKey}` };

    // Complaints taken in through the API, so each has the deadlines intake opens.
    for (let n = 0; n < COMPLAINTS; n += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          fetch(`${base}/v1/complaints`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify(complaintBody(n + i)),
          }).then(async (res) => {
            if (res.status !== 201) throw new Error(`seeding: ${res.status} ${await res.text()}`);
          }),
        ),
      );
    }
    await database.pool.query('analyze complaints, deadlines');

    const graphqlBody = JSON.stringify({ query: QUERY, variables: { first: PAGE } });
    const page = await sameData(base, auth, graphqlBody);
    console.log(
      `graphql scenario: ${benchConnections} connections, ${benchWarmup} s warm-up + ${benchDuration} s per run, ` +
        `${cpus().length} CPUs, load average ${loadavg()
          .map((value) => value.toFixed(2))
          .join(' ')}; a page is ${PAGE} complaints with ${page.deadlines} deadlines`,
    );

    const common = { url: base, connections: benchConnections, pipelining: 1 };
    const sample = { serverPid: api.pid, database: resources.databaseName };
    const graphql = await load(
      'GraphQL: POST /graphql, 50 complaints + deadlines',
      {
        ...common,
        requests: [
          {
            method: 'POST',
            path: '/graphql',
            headers: { ...auth, 'content-type': 'application/json' },
            body: graphqlBody,
          },
        ],
      },
      sample,
    );
    progress(graphql);
    const restSame = await load(
      'REST: list + 50 × deadlines (51 requests a page)',
      {
        ...common,
        requests: [
          { method: 'GET', path: `/v1/complaints?limit=${PAGE}`, headers: auth },
          ...page.ids.map((id) => ({
            method: 'GET' as const,
            path: `/v1/complaints/${id}/deadlines`,
            headers: auth,
          })),
        ],
      },
      sample,
    );
    progress(restSame);
    const restList = await load(
      'REST: GET /v1/complaints?limit=50 alone (no deadlines)',
      { ...common, requests: [{ method: 'GET', path: `/v1/complaints?limit=${PAGE}`, headers: auth }] },
      sample,
    );
    progress(restList);
    await api.stop();

    const results = [graphql, restSame, restList];
    console.log(`\n${resultsTable(results)}`);
    for (const warning of noiseWarnings(results)) console.log(warning);

    const requestsPerPage = 1 + PAGE;
    const pages = {
      graphql: graphql.requestsPerSecond,
      restSameData: restSame.requestsPerSecond / requestsPerPage,
      restListOnly: restList.requestsPerSecond,
    };
    console.log(
      `\n${table([
        { way: 'GraphQL', 'pages/s': pages.graphql, 'requests/page': 1, 'p99 ms per request': graphql.p99 },
        {
          way: 'REST, same data',
          'pages/s': pages.restSameData,
          'requests/page': requestsPerPage,
          'p99 ms per request': restSame.p99,
        },
        {
          way: 'REST list only',
          'pages/s': pages.restListOnly,
          'requests/page': 1,
          'p99 ms per request': restList.p99,
        },
      ])}`,
    );
    const ratios = {
      'GraphQL / REST same data (pages/s)': pages.graphql / pages.restSameData,
      'GraphQL / REST list only (req/s)': pages.graphql / pages.restListOnly,
    };
    console.log(`\n${table(Object.entries(ratios).map(([ratio, value]) => ({ ratio, value })))}`);
    const targets = {
      [`GraphQL ≥ ${TARGET_RATIO * 100} % of REST (same data, pages/s)`]:
        ratios['GraphQL / REST same data (pages/s)'] >= TARGET_RATIO,
      'no non-2xx or errors': results.every((r) => r.non2xx + r.errors === 0),
    };
    console.log(
      `\n${table(Object.entries(targets).map(([target, met]) => ({ target, result: verdict(met) })))}`,
    );
    for (const result of results) {
      if (result.non2xx + result.errors === 0) continue;
      console.log(`\n${result.name}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      for (const sample of result.errorSamples ?? []) console.log(`  ${sample}`);
    }

    await mkdir('bench/results', { recursive: true });
    const file = `bench/results/graphql-${new Date().toISOString().replaceAll(':', '-')}.json`;
    await writeFile(
      file,
      `${JSON.stringify(
        {
          scenario: 'graphql',
          at: new Date().toISOString(),
          machine: {
            cpus: cpus().length,
            cpuModel: cpus()[0]?.model,
            node: process.version,
            loadavg: loadavg(),
          },
          connections: benchConnections,
          warmupSeconds: benchWarmup,
          durationSeconds: benchDuration,
          page: { complaints: PAGE, deadlines: page.deadlines },
          results,
          pages,
          ratios,
          targets,
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
 * Reads the page both ways once and checks they hold the same data, so the comparison is of
 * like with like; answers the page's complaint ids and how many deadlines it holds.
 */
async function sameData(base: string, auth: Record<string, string>, graphqlBody: string) {
  const graphql = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: graphqlBody,
  }).then((res) => res.json() as Promise<{ data: { complaints: { nodes: unknown[] } }; errors?: unknown }>);
  if (graphql.errors) throw new Error(`GraphQL answered errors: ${JSON.stringify(graphql.errors)}`);
  const nodes = graphql.data.complaints.nodes as Array<
    Record<string, unknown> & { id: string; deadlines: unknown[] }
  >;
  const getJson = async (path: string) =>
    (await fetch(`${base}${path}`, { headers: auth }).then((res) => res.json())) as { data: unknown[] };
  const list = await getJson(`/v1/complaints?limit=${PAGE}`);
  let deadlines = 0;
  for (const [index, node] of nodes.entries()) {
    const { deadlines: ofNode, ...complaint } = node;
    const rest = await getJson(`/v1/complaints/${node.id}/deadlines`);
    if (!isDeepStrictEqual(complaint, list.data[index]) || !isDeepStrictEqual(ofNode, rest.data)) {
      throw new Error(`GraphQL and REST disagree about complaint ${node.id}`);
    }
    deadlines += ofNode.length;
  }
  if (nodes.length !== PAGE) throw new Error(`expected a page of ${PAGE}, got ${nodes.length}`);
  return { ids: nodes.map((node) => node.id), deadlines };
}

function progress(result: LoadResult): void {
  console.log(
    `  ${result.name}: ${Math.round(result.requestsPerSecond).toLocaleString('en-US')} req/s, ` +
      `p99 ${result.p99.toFixed(1)} ms, ${result.non2xx + result.errors} errors`,
  );
}
