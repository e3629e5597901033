# libp2pd image. Build: docker build -t libp2pd .
# Run:  docker run -v libp2pd-run:/run/libp2pd -v libp2pd-data:/data -p 4001:4001 -p 4001:4001/udp libp2pd
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's prepare script is the build, which needs the sources copied
# below (this layer stays cached while only they change); `npm rebuild` then runs the
# dependencies' own install scripts
RUN npm install --no-audit --no-fund --ignore-scripts && npm rebuild
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY scripts/bundle.mjs ./scripts/
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
RUN mkdir -p /run/libp2pd /data && chown node:node /run/libp2pd /data
USER node
VOLUME ["/run/libp2pd", "/data"]
# libp2p TCP + QUIC, Prometheus metrics
EXPOSE 4001/tcp 4001/udp 9090/tcp
# health: a p2pd IDENTIFY over the control socket. Request{type: IDENTIFY(0)} is the bytes
# 02 08 00 (varint length, then field 1 = 0); the answer must start, after its varint length,
# with 08 00 (type: OK).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD node -e "const s=require('net').connect('/run/libp2pd/p2pd.sock');s.on('connect',()=>s.write(Buffer.from([2,8,0])));s.once('data',d=>{let i=0;while(d[i]&128)i++;process.exit(d[i+1]===8&&d[i+2]===0?0:1)});s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),4000)"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/libp2pd.js"]
CMD ["-id", "/data/identity", "-datastore", "/data/datastore", \
     "-listen", "/unix/run/libp2pd/p2pd.sock", "-httpListen", "/unix/run/libp2pd/http.sock", \
     "-hostAddrs", "/ip4/0.0.0.0/tcp/4001,/ip4/0.0.0.0/udp/4001/quic-v1", "-metricsAddr", "0.0.0.0:9090"]
