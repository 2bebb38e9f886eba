/**
 * `berth port CONTAINER [PRIVATE_PORT[/PROTO]]` and `berth port -a`: published ports as
 * "80/tcp -> 0.0.0.0:8080", one line per port (ranges expanded), as Podman prints them.
 */
import type { Argv, CommandModule } from 'yargs';
import { RuntimeError, UsageError } from '../../errors/index.js';
import { getContainerNetwork, type PortMapping } from '../../network/index.js';
import { listRecords, lookupContainer, readState } from '../../runtime/index.js';
import { storagePaths } from './network-volume-support.js';

type Args = Record<string, unknown> & { root?: string; runroot?: string };

function lines(ports: PortMapping[], filter?: { port: number; protocol: string }): string[] {
  const out: string[] = [];
  for (const p of ports) {
    for (let i = 0; i < p.range; i++) {
      if (filter && (filter.port !== p.containerPort + i || filter.protocol !== p.protocol)) continue;
      const host = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp || '0.0.0.0';
      out.push(`${filter ? '' : `${p.containerPort + i}/${p.protocol} -> `}${host}:${p.hostPort + i}`);
    }
  }
  return out;
}

export const portCommand: CommandModule<object, Args> = {
  command: 'port [container] [port]',
  describe: 'List the published ports of a container',
  builder: (y: Argv) => y
    .positional('container', { type: 'string' })
    .positional('port', { type: 'string', describe: 'PRIVATE_PORT[/PROTO]: print only its host address' })
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Every running container' })
    .option('latest', { alias: 'l', type: 'boolean', default: false, describe: 'The newest container' }),
  handler: async (argv) => {
    const paths = storagePaths(argv);
    let filter: { port: number; protocol: string } | undefined;
    if (argv.port !== undefined) {
      const m = String(argv.port).match(/^(\d+)(?:\/(tcp|udp|sctp))?$/);
      if (!m) throw new UsageError('invalid-port', `invalid port "${argv.port}": expected PORT[/tcp|udp|sctp]`);
      filter = { port: Number(m[1]), protocol: m[2] ?? 'tcp' };
    }
    if (argv.all) {
      for (const record of listRecords(paths)) {
        if (readState(paths, record.id).status !== 'running') continue;
        const network = await getContainerNetwork(paths, record.id);
        for (const line of lines(network?.ports ?? [])) process.stdout.write(`${record.id.slice(0, 12)}\t${line}\n`);
      }
      return;
    }
    let record;
    if (argv.latest) record = listRecords(paths).at(-1);
    else if (argv.container) record = lookupContainer(paths, String(argv.container));
    else throw new UsageError('usage', 'name a container, or use --all or --latest');
    if (!record) throw new RuntimeError('no-such-container', `no container with name or ID "${argv.container ?? ''}" found: no such container`, { context: { container: String(argv.container ?? '') } });
    const network = await getContainerNetwork(paths, record.id);
    const out = lines(network?.ports ?? [], filter);
    if (filter && out.length === 0) {
      throw new RuntimeError('no-such-port', `failed to find published port "${filter.port}/${filter.protocol}"`, { context: { container: record.name } });
    }
    for (const line of out) process.stdout.write(`${line}\n`);
  },
};

export default portCommand;
