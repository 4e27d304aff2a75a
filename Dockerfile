# syntax=docker/dockerfile:1
# Caregate container: Node 24 runs the TypeScript sources directly (native type stripping), so the
# image holds production dependencies and sources, and no build output.
#   docker build -t caregate .
#   docker run -p 3000:3000 -v caregate-data:/data caregate            # embedded PGlite + memory
#   docker run -p 3000:3000 -e DATABASE_URL=… -e REDIS_URL=… -e CAREGATE_MASTER_KEY=… caregate

# ---- dependencies: installed once, from the lockfile, without dev tools ----
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    CAREGATE_DATA_DIR=/data \
    PORT=3000
WORKDIR /app
# Application files stay owned by root: the process (user "node") can read them but not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY config ./config
COPY src ./src
COPY views ./views
# The data directory holds the embedded database and the generated master key.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
EXPOSE 3000
VOLUME /data
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/caregate.js", "serve"]
