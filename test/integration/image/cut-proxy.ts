/**
 * A TCP proxy in front of a registry that closes a connection once it has carried `cutAfter`
 * bytes towards the client (once per `cuts`), mid-body, to test interrupted downloads.
 * It records each request line with its Range header, so a test can see the resume, and counts
 * the connections it accepted (keep-alive reuse), and of those the TLS ones (an insecure registry's
 * HTTPS try, which the registry behind refuses).
 */
import net from 'node:net';

export interface CutProxy {
  host: string;
  requests: string[];
  cutsDone: number;
  connections: number;
  tlsConnections: number;
  stop(): Promise<void>;
}

export async function startCutProxy(target: string, cutAfter: number, cuts = 1): Promise<CutProxy> {
  const [targetHost, targetPort] = target.split(':');
  const sockets = new Set<net.Socket>();
  const proxy: CutProxy = { host: '', requests: [], cutsDone: 0, connections: 0, tlsConnections: 0, stop: async () => {} };
  const server = net.createServer((client) => {
    proxy.connections++;
    const upstream = net.connect(Number(targetPort), targetHost);
    sockets.add(client).add(upstream);
    let down = 0;
    client.once('data', (data) => { if (data[0] === 0x16) proxy.tlsConnections++; });
    client.on('data', (data) => {
      const text = data.toString('latin1');
      for (const m of text.matchAll(/^(GET|HEAD) (\S+) HTTP\/1\.1\r\n([\s\S]*?)\r\n\r\n/gm)) {
        const range = /^range: *(.*)$/im.exec(m[3]);
        proxy.requests.push(`${m[1]} ${m[2]}${range ? ` range=${range[1].trim()}` : ''}`);
      }
      upstream.write(data);
    });
    upstream.on('data', (data) => {
      down += data.length;
      if (proxy.cutsDone < cuts && down > cutAfter) {
        proxy.cutsDone++;
        // Everything up to the cut reaches the client, then the connection closes mid-body.
        client.end(data.subarray(0, data.length - (down - cutAfter)));
        upstream.destroy();
        return;
      }
      client.write(data);
    });
    const close = (): void => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.stop = () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); });
  return proxy;
}
