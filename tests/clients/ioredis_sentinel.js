// ioredis's Sentinel client through a master failover: connects by name through the
// sentinels, writes, then keeps writing while the caller kills the master, and reports how
// long writes failed. Run against `make run-sentinel` (by hand; ioredis is not packaged):
//
//   NODE_PATH=<dir with node_modules/ioredis> node ioredis_sentinel.js 26379 mymaster &
//   kill -9 $(cat run/sentinel/6380.pid)     # or whatever process is the master
const Redis = require("ioredis");

async function main() {
  const [port, name] = process.argv.slice(2);
  const r = new Redis({ sentinels: [{ host: "127.0.0.1", port: Number(port) }], name, maxRetriesPerRequest: 1 });
  const first = await r.call("ROLE");
  console.log("connected to", r.options.host || "?", "role", first[0]);
  let failingSince = null;
  let writes = 0;
  const deadline = Date.now() + Number(process.env.SECONDS || 40) * 1000;
  while (Date.now() < deadline) {
    try {
      await r.set("ioredis:sentinel", String(writes));
      writes++;
      if (failingSince !== null) {
        console.log(`writes failed for ${((Date.now() - failingSince) / 1000).toFixed(2)} s, then succeeded`);
        const role = await r.call("ROLE");
        console.log("now on a", role[0]);
        failingSince = null;
      }
    } catch (e) {
      if (failingSince === null) failingSince = Date.now();
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  console.log("writes:", writes);
  r.disconnect();
}
main().catch((e) => { console.error(e); process.exit(1); });
