# The worker image (docs/deploy.md, "Workers"): takes a run's delivery units from the Storage queue
# and writes them to the mailboxes. Build it in Azure with `az acr build` (no local Docker needed).

# Build: the whole project's tools, to compile TypeScript to dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN npm run build

# Run: production dependencies and the compiled output only.
FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=32768
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's own unprivileged user: the worker needs to write nothing in the image.
USER node
# server/runtimeEnv.ts's flags, as the web app runs with them. No port: the worker answers nobody.
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=1024", "dist/server/worker.js"]
