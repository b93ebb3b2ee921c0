# The services' image: one image, the service chosen by the command (`npm run service -- NAME`;
# `npm start` in it runs the one-process mode). better-sqlite3 (the embedded store) is a native
# addon: the build stage has a compiler in case no prebuilt binary can be downloaded.
FROM node:20.19-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json start.ts ./
COPY shared ./shared
COPY services ./services
COPY simulators ./simulators
COPY deploy/registry ./deploy/registry
USER node
ENTRYPOINT ["npm", "run", "--silent", "service", "--"]
