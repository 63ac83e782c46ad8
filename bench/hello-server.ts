/** A bare Fastify hello-world: the baseline of what Node and Fastify do on this machine. */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log('hello server listening');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
