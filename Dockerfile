# tidemark's processes (stream, archive, worker, console) and one-shot jobs (db migrate, the
# Superset bundle). Node runs the TypeScript sources directly through type stripping, so there is
# no build step and no dist/ — and dev dependencies stay (npm ci, not --omit=dev): the bundle
# builder's zip writer is one of them.
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    # No update nags or audit calls at start-up.
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false

WORKDIR /app

# Dependencies first: this layer is reused until the lock file changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY db ./db
COPY scripts ./scripts
COPY superset/bundle ./superset/bundle
COPY .env.example ./

# Embedded state (PGlite, file lake) is unused under compose but must not land in /app as root.
RUN mkdir -p /app/.tidemark && chown -R node:node /app/.tidemark
USER node

EXPOSE 8080
ENTRYPOINT []
CMD ["node", "src/cli/main.ts", "--help"]
