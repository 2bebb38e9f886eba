/**
 * FAKE slow network, for tests only: a TCP proxy that forwards to TARGET as is, but hands the
 * answers back at most BYTES_PER_SECOND (in slices every 50 ms). A slow link to a registry cannot
 * be produced otherwise inside a sysbox, whose only interface is `lo`.
 *
 *   node fake-slow-network-proxy.js LISTEN_PORT TARGET_HOST:PORT BYTES_PER_SECOND
 *
 * Runs in the foreground until killed; prints "listening" once it accepts connections.
 */
import net from 'node:net';

const TICK_MS = 50;

export function startThrottlingProxy(listenPort: number, target: string, bytesPerSecond: number): Promise<net.Server> {
  const [host, port] = target.split(':');
  const perTick = Math.max(1, Math.floor((bytesPerSecond * TICK_MS) / 1000));
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), host);
    const queue: Buffer[] = [];
    let upstreamEnded = false;
    const tick = setInterval(() => {
      let budget = perTick;
      while (budget > 0 && queue.length > 0) {
        const head = queue[0];
        if (head.length <= budget) { client.write(head); budget -= head.length; queue.shift(); } else { client.write(head.subarray(0, budget)); queue[0] = head.subarray(budget); budget = 0; }
      }
      if (queue.length === 0 && upstreamEnded) { clearInterval(tick); client.end(); }
      // Backpressure: stop reading from the registry while much is waiting.
      if (queue.reduce((n, b) => n + b.length, 0) > 4 * perTick) upstream.pause(); else upstream.resume();
    }, TICK_MS);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => queue.push(d));
    upstream.on('end', () => { upstreamEnded = true; });
    const close = (): void => { clearInterval(tick); client.destroy(); upstream.destroy(); };
    client.on('error', close).on('close', close);
    upstream.on('error', close);
  });
  return new Promise((resolve) => server.listen(listenPort, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [listen, target, rate] = process.argv.slice(2);
  if (!listen || !target || !rate) {
    process.stderr.write('usage: fake-slow-network-proxy LISTEN_PORT TARGET_HOST:PORT BYTES_PER_SECOND\n');
    process.exit(2);
  }
  await startThrottlingProxy(Number(listen), target, Number(rate));
  process.stdout.write('listening\n');
}
