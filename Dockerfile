# syntax=docker/dockerfile:1

# One image for every Redress process:
#   node --import ./dist/src/tracing.js dist/src/main.js     the API (default command), port 3000
#   node --import ./dist/src/tracing.js dist/src/worker.js   the BullMQ worker and deadline reconciler, metrics on 9464
# The tracing preload starts OpenTelemetry before anything it instruments loads; it does nothing
# unless the OTEL_* variables turn tracing on (README, Tracing).
#   node dist/src/cli.js …    admin commands: migrate, tenant create, apikey create|revoke, demo
# No HEALTHCHECK here: docker-compose.yml (or the orchestrator) checks /readyz.

# --- build: compile TypeScript with the dev toolchain ----------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsconfig.json has rootDir "." and outDir "dist", so src/main.ts becomes dist/src/main.js.
RUN npm run build

# --- runtime: production dependencies, compiled code and migrations --------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
# The commit `redress_build_info` on /metrics names:
#   docker build --build-arg REDRESS_BUILD_COMMIT=$(git rev-parse HEAD) .
ARG REDRESS_BUILD_COMMIT=""
ENV REDRESS_BUILD_COMMIT=$REDRESS_BUILD_COMMIT
# A larger young generation: a busy API allocates fast, and with V8's default 16 MB semi-spaces it
# stopped for a scavenge every ~45 ms, spending about a tenth of its time there. With 32 MB, about
# half of that, and intake ran faster with a shorter tail (bench/, which starts the processes with
# the flags set here: DEPLOYED_NODE_FLAGS).
ENV NODE_OPTIONS=--max-semi-space-size=32
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# src/db/migrate.ts finds the migrations at new URL('../../migrations', import.meta.url).
# Compiled, that file is /app/dist/src/db/migrate.js: its directory is /app/dist/src/db/,
# '..' is /app/dist/src/, '../..' is /app/dist/, so the folder must be /app/dist/migrations.
# (From source, src/db/ → ../.. is the repository root, where migrations/ lives.)
COPY migrations ./dist/migrations
USER node
EXPOSE 3000 9464
# Use the compiled entry points. The npm scripts (`npm start`, `npm run cli`, …) run tsx on
# src/*.ts, which this image deliberately does not contain: they are for a checkout.
CMD ["node", "--import", "./dist/src/tracing.js", "dist/src/main.js"]
