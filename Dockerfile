# syntax=docker/dockerfile:1

# --- build: compile TypeScript with the dev toolchain --------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies, compiled code and migrations -------------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The migrator looks for ../../migrations from dist/src/db/migrate.js, that is /app/dist/migrations.
COPY migrations ./dist/migrations
USER node
EXPOSE 3000 9464
# The same image runs the API (default), the worker (node dist/src/worker.js) and the admin CLI
# (node dist/src/cli.js migrate | tenant create --name … | apikey create …).
CMD ["node", "dist/src/main.js"]
