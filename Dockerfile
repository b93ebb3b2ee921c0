# The services' image: one image, the service chosen by the command (`npm run service -- NAME`).
FROM node:20.19-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY shared ./shared
COPY services ./services
COPY simulators ./simulators
COPY tsconfig.json ./
USER node
ENTRYPOINT ["npm", "run", "--silent", "service", "--"]
