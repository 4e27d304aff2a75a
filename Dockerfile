# syntax=docker/dockerfile:1
# Caregate container: Node 24 runs the TypeScript sources directly (native type stripping), so the
# image holds production dependencies and sources, and no build output.
#   docker build -t caregate .
#   docker run -p 3000:3000 -v caregate-data:/data caregate            # embedded PGlite + memory
#   docker run -p 3000:3000 -e DATABASE_URL=… -e REDIS_URL=… -e CAREGATE_MASTER_KEY=… caregate

# ---- dependencies: installed once, from the lockfile, without dev tools ----
# The workspace packages (packages/*, the relying-party SDK) are not part of the server: npm ci
# installs the server's dependencies without them. Only node_modules leaves this stage, so npm's
# cache stays behind with it. npm ci runs before the sources arrive (its layer is rebuilt only when
# the lockfile changes), so the package's postinstall — the embedded database template a first
# start copies instead of running initdb — is run after them, into node_modules/.cache/caregate.
# (--ignore-scripts skips dependencies' install scripts too: no production dependency has one; the
# native ones, argon2 among them, come prebuilt.)
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts
COPY src ./src
COPY scripts/build-embedded-template.ts ./scripts/
RUN node scripts/build-embedded-template.ts --strict

# ---- runtime ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    CAREGATE_DATA_DIR=/data \
    PORT=3000
WORKDIR /app
# Application files stay owned by root: the process (user "node") can read them but not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
# What the server reads at run time: the sources (with migrations/baseline.sql), the page
# templates and their assets (views/), and the admin console's files (console/).
COPY bin ./bin
COPY src ./src
COPY views ./views
COPY console ./console
# The data directory holds the embedded database and the generated master key.
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
USER node
EXPOSE 3000
VOLUME /data
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/caregate.js", "serve"]
