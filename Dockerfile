# The services' image: one image, the service chosen by the command (`npm run service -- NAME`;
# `npm start` in it runs the one-process mode). Node.js 24 LTS runs the TypeScript itself (type
# stripping) and brings SQLite (`node:sqlite`), so no dependency builds native code: no compiler
# in any stage. The tag is pinned to the version package.json's `node` dev dependency and .nvmrc
# name, so the image runs what the tests ran.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json .npmrc tsconfig.json start.ts ./
COPY shared ./shared
COPY services ./services
COPY simulators ./simulators
COPY deploy/registry ./deploy/registry
# The compose stack's influxdb-access job writes the services' tokens here (a named volume takes
# this directory's owner on first use, so the job need not run as root).
RUN mkdir -p /var/lib/smartcity/influx-tokens && chown node:node /var/lib/smartcity/influx-tokens
USER node
ENTRYPOINT ["npm", "run", "--silent", "service", "--"]
