# tidemark's processes (stream, archive, worker, console, generator) and one-shot jobs (db
# migrate, schedule, the Superset bundle). Node runs the TypeScript sources directly through type
# stripping, so there is no build step and no dist/. Only runtime dependencies are installed
# (NODE_ENV=production makes npm ci omit dev ones): everything the commands of
# docker-compose.yaml import — the bundle builder's zip writer and YAML reader included — is a
# runtime dependency. test/integration/compose-services.test.ts installs the project this way and
# runs every one of those commands.
FROM node:24-bookworm-slim

ENV NODE_ENV=production \
    # No update nags or audit calls at start-up.
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false

WORKDIR /app

# Dependencies first: this layer is reused until the lock file changes.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit && npm cache clean --force

COPY bin ./bin
COPY src ./src
COPY db ./db
COPY scripts ./scripts
COPY superset/bundle ./superset/bundle
COPY .env.example ./

# Embedded state (PGlite, file lake) is unused under compose but must not land in /app as root.
# /bundle is where the superset-bundle job writes the zip: a fresh named volume takes the
# owner of the image's directory, so the job can write it as the node user.
RUN mkdir -p /app/.tidemark /bundle && chown node:node /app/.tidemark /bundle
USER node

EXPOSE 8080
ENTRYPOINT []
CMD ["node", "src/cli/main.ts", "--help"]
