import { execFileSync, spawnSync } from 'node:child_process';
import net from 'node:net';

// The host ports docker-compose.yml publishes, which REDRESS_*_PORT move there and here alike.
const composePostgresPort = process.env.REDRESS_POSTGRES_PORT || '5432';
const composeRedisPort = process.env.REDRESS_REDIS_PORT || '6379';

/** Where the tests find PostgreSQL (an admin connection) and Redis; the compose stack by default. */
export const testServices = {
  adminDatabaseUrl:
    process.env.TEST_DATABASE_URL ??
    process.env.DATABASE_URL ??
    `postgres://postgres:redress@127.0.0.1:${composePostgresPort}/postgres`,
  redisUrl: process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? `redis://127.0.0.1:${composeRedisPort}`,
  /**
   * A Redis Cluster's nodes (REDIS_CLUSTER_NODES's form): when set, the tests run on it instead of
   * TEST_REDIS_URL's server. `test/redis-cluster.sh start` starts one on this machine.
   */
  redisClusterNodes: process.env.TEST_REDIS_CLUSTER_NODES ?? '',
};

function answers(url: string, defaultPort: number): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname || '127.0.0.1', port: Number(port || defaultPort) });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Makes sure PostgreSQL and Redis answer. When neither is running and Docker is installed, starts
 * the two from docker-compose.yml (so a fresh machine needs no manual set-up); otherwise it says
 * exactly what is missing.
 */
export async function ensureServices(): Promise<void> {
  const postgresUp = await answers(testServices.adminDatabaseUrl, 5432);
  if (testServices.redisClusterNodes) {
    // A cluster is started by test/redis-cluster.sh, never by Compose.
    const first = testServices.redisClusterNodes.split(',')[0]!.trim();
    const url = first.includes('://') ? first : `redis://${first}`;
    if (!(await answers(url, 6379)))
      throw new Error(
        `TEST_REDIS_CLUSTER_NODES names ${first}, which does not answer: start it with test/redis-cluster.sh start`,
      );
  }
  const redisUp = testServices.redisClusterNodes !== '' || (await answers(testServices.redisUrl, 6379));
  if (postgresUp && redisUp) return;
  const missing = [!postgresUp && 'postgres', !redisUp && 'redis'].filter(Boolean) as string[];
  const docker = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' });
  if (docker.status !== 0) {
    throw new Error(
      `Tests need ${missing.join(' and ')} (${testServices.adminDatabaseUrl}, ${testServices.redisUrl}) and Docker is not available to start them. Start them or set TEST_DATABASE_URL / TEST_REDIS_URL.`,
    );
  }
  console.log(`starting ${missing.join(' and ')} with docker compose …`);
  execFileSync('docker', ['compose', 'up', '--detach', '--wait', ...missing], { stdio: 'inherit' });
}
