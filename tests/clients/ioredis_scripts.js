// ioredis's defineCommand against one address: a custom command backed by a Lua script
// (EVALSHA, falling back to EVAL on NOSCRIPT), on a server or a proxy (`plain`) or a cluster
// (`cluster`, Redis.Cluster). Prints "ok" and exits 0 when every check holds.
//
//   NODE_PATH=<dir with node_modules/ioredis> node ioredis_scripts.js plain|cluster HOST PORT
const Redis = require("ioredis");
const assert = require("assert");

async function main() {
  const [mode, host, port] = process.argv.slice(2);
  const r = mode === "cluster"
    ? new Redis.Cluster([{ host, port: Number(port) }], { scaleReads: "master" })
    : new Redis({ host, port: Number(port) });
  r.defineCommand("incrCapped", {
    numberOfKeys: 1,
    lua: "local v = redis.call('incrby', KEYS[1], ARGV[1]) if v > tonumber(ARGV[2]) then redis.call('set', KEYS[1], ARGV[2]) return tonumber(ARGV[2]) end return v",
  });
  r.defineCommand("echoKeys", { lua: "return {KEYS[1], ARGV[1]}" });
  for (let i = 0; i < 5; i++) {
    const key = `ioscript:${i}`;
    await r.del(key);
    assert.strictEqual(await r.incrCapped(key, 3, 10), 3);
    assert.strictEqual(await r.incrCapped(key, 9, 10), 10);
    assert.deepStrictEqual(await r.echoKeys(1, key, "a"), [key, "a"]);
    // The same command inside a pipeline and a MULTI (EVALSHA queued).
    const piped = await r.pipeline().incrCapped(key, -5, 10).get(key).exec();
    assert.deepStrictEqual(piped, [[null, 5], [null, "5"]]);
    const tx = await r.multi().incrCapped(key, 1, 10).exec();
    assert.deepStrictEqual(tx, [[null, 6]]);
  }
  // After SCRIPT FLUSH the next call gets NOSCRIPT and ioredis sends the script again.
  if (mode === "cluster") {
    await Promise.all(r.nodes("master").map((n) => n.script("FLUSH")));
  } else {
    await r.script("FLUSH");
  }
  assert.strictEqual(await r.incrCapped("ioscript:0", 1, 10), 7);
  await r.quit();
  console.log("ok");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
