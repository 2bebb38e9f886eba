/**
 * `berth network create|ls|inspect|rm|prune|exists` (Podman's flags).
 */
import type { Argv, CommandModule } from 'yargs';
import { NetworkError } from '../../errors/index.js';
import {
  createNetwork, DEFAULT_NETWORK_NAME, getNetwork, listNetworks, removeNetwork, requireNetwork, type NetworkConfig,
} from '../../network/index.js';
import { keyValues, networkUsers, printTable, removeContainersByNameOrId, renderTemplate, storagePaths, toList } from './network-volume-support.js';

type Args = Record<string, unknown> & { root?: string; runroot?: string };

/** Podman's `network inspect` shape: the stored config plus the containers attached. */
function inspectView(network: NetworkConfig, containers: string[]): Record<string, unknown> {
  return { ...network, containers: Object.fromEntries(containers.map((id) => [id, {}])) };
}

const create: CommandModule<object, Args> = {
  command: 'create [name]',
  describe: 'Create a network',
  builder: (y: Argv) => y
    .positional('name', { type: 'string', describe: 'Network name (default: berthN)' })
    .option('driver', { alias: 'd', type: 'string', default: 'bridge', describe: 'bridge, macvlan or ipvlan' })
    .option('subnet', { type: 'string', describe: 'Subnet in CIDR form (repeatable)' })
    .option('gateway', { type: 'string', describe: 'Gateway for the subnet given at the same position' })
    .option('ip-range', { type: 'string', describe: 'Allocate container IPs from this CIDR or START-END range' })
    .option('internal', { type: 'boolean', default: false, describe: 'No route out of the network' })
    .option('disable-dns', { type: 'boolean', default: false, describe: 'No name resolution between containers' })
    .option('ipv6', { type: 'boolean', default: false, describe: 'Add an IPv6 subnet' })
    .option('label', { type: 'string', describe: 'KEY=VALUE label' })
    .option('opt', { alias: 'o', type: 'string', describe: 'Driver option KEY=VALUE (mtu, vlan, parent, mode, isolate…)' })
    .option('interface-name', { type: 'string', describe: 'Name of the bridge interface' })
    .option('ipam-driver', { type: 'string', describe: 'host-local (default) or none' })
    .option('dns', { type: 'string', describe: 'Upstream DNS server for the network\'s aardvark-dns (repeatable)' })
    .option('ignore', { type: 'boolean', default: false, describe: 'Succeed if the network already exists' }),
  handler: async (argv) => {
    const network = await createNetwork(storagePaths(argv), {
      name: argv.name as string | undefined,
      driver: argv.driver as string,
      subnets: toList(argv.subnet),
      gateways: toList(argv.gateway),
      ipRanges: toList(argv['ip-range']),
      internal: argv.internal as boolean,
      disableDns: argv['disable-dns'] as boolean,
      ipv6: argv.ipv6 as boolean,
      labels: keyValues(argv.label, '--label'),
      options: keyValues(argv.opt, '--opt'),
      interfaceName: argv['interface-name'] as string | undefined,
      ipamDriver: argv['ipam-driver'] as string | undefined,
      dnsServers: toList(argv.dns),
      ignoreIfExists: argv.ignore as boolean,
    });
    process.stdout.write(`${network.name}\n`);
  },
};

function matchesFilters(network: NetworkConfig, filters: Record<string, string>): boolean {
  return Object.entries(filters).every(([key, value]) => {
    switch (key) {
      case 'name': return new RegExp(value).test(network.name);
      case 'id': return network.id.startsWith(value);
      case 'driver': return network.driver === value;
      case 'label': {
        const [k, v] = value.split('=', 2);
        return k in network.labels && (v === undefined || network.labels[k] === v);
      }
      default: throw new NetworkError('bad-filter', `unknown filter "${key}" (name, id, driver, label)`);
    }
  });
}

const ls: CommandModule<object, Args> = {
  command: 'ls',
  aliases: ['list'],
  describe: 'List networks',
  builder: (y: Argv) => y
    .option('format', { type: 'string', describe: '"json" or a Go template such as {{.Name}}' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Names only' })
    .option('filter', { alias: 'f', type: 'string', describe: 'name=, id=, driver=, label=' })
    .option('no-trunc', { type: 'boolean', default: false }),
  handler: async (argv) => {
    const filters: Record<string, string> = {};
    for (const f of toList(argv.filter)) {
      const eq = f.indexOf('=');
      filters[eq < 0 ? f : f.slice(0, eq)] = eq < 0 ? '' : f.slice(eq + 1);
    }
    const networks = (await listNetworks(storagePaths(argv))).filter((n) => matchesFilters(n, filters));
    if (argv.quiet) {
      for (const n of networks) process.stdout.write(`${n.name}\n`);
    } else if (argv.format === 'json') {
      process.stdout.write(`${JSON.stringify(networks, null, 2)}\n`);
    } else if (typeof argv.format === 'string') {
      for (const n of networks) process.stdout.write(`${renderTemplate(argv.format, n)}\n`);
    } else {
      printTable([['NETWORK ID', 'NAME', 'DRIVER'], ...networks.map((n) => [argv['no-trunc'] ? n.id : n.id.slice(0, 12), n.name, n.driver])]);
    }
  },
};

const inspect: CommandModule<object, Args> = {
  command: 'inspect <networks..>',
  describe: 'Show networks in detail (JSON)',
  builder: (y: Argv) => y
    .positional('networks', { type: 'string', array: true })
    .option('format', { alias: 'f', type: 'string', describe: 'Go template, e.g. {{.Subnets}}' }),
  handler: async (argv) => {
    const paths = storagePaths(argv);
    const views: Record<string, unknown>[] = [];
    for (const name of toList(argv.networks)) {
      const network = await requireNetwork(paths, name);
      views.push(inspectView(network, await networkUsers(paths, network)));
    }
    if (typeof argv.format === 'string' && argv.format !== 'json') {
      for (const v of views) process.stdout.write(`${renderTemplate(argv.format, v)}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
    }
  },
};

const rm: CommandModule<object, Args> = {
  command: 'rm <networks..>',
  aliases: ['remove'],
  describe: 'Remove networks',
  builder: (y: Argv) => y
    .positional('networks', { type: 'string', array: true })
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Also when containers use it' })
    .option('time', { alias: 't', type: 'number', describe: 'Seconds to wait for containers to stop with -f' }),
  handler: async (argv) => {
    const paths = storagePaths(argv);
    let failure: unknown;
    for (const name of toList(argv.networks)) {
      try {
        const removed = await removeNetwork(paths, name, {
          force: argv.force as boolean,
          usedBy: (n) => networkUsers(paths, n),
          removeContainers: (ids) => removeContainersByNameOrId(paths, ids, argv.time as number | undefined),
        });
        process.stdout.write(`${removed.name}\n`);
      } catch (error) {
        if (failure) process.stderr.write(`Error: ${(failure as Error).message}\n`);
        failure = error;
      }
    }
    if (failure) throw failure;
  },
};

const prune: CommandModule<object, Args> = {
  command: 'prune',
  describe: 'Remove networks no container uses',
  builder: (y: Argv) => y
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Do not ask (berth never asks)' })
    .option('filter', { type: 'string', describe: 'label=KEY[=VALUE]' }),
  handler: async (argv) => {
    const paths = storagePaths(argv);
    const labelFilters = toList(argv.filter).map((f) => {
      if (!f.startsWith('label=')) throw new NetworkError('bad-filter', `unknown filter "${f}" (label=)`);
      return f.slice('label='.length).split('=', 2);
    });
    for (const network of await listNetworks(paths)) {
      if (network.name === DEFAULT_NETWORK_NAME) continue;
      if (!labelFilters.every(([k, v]) => k in network.labels && (v === undefined || network.labels[k] === v))) continue;
      if ((await networkUsers(paths, network)).length > 0) continue;
      await removeNetwork(paths, network.name, {});
      process.stdout.write(`${network.name}\n`);
    }
  },
};

const exists: CommandModule<object, Args> = {
  command: 'exists <name>',
  describe: 'Exit 0 if the network exists, 1 if not',
  builder: (y: Argv) => y.positional('name', { type: 'string' }),
  handler: async (argv) => {
    process.exitCode = (await getNetwork(storagePaths(argv), argv.name as string)) ? 0 : 1;
  },
};

export const networkCommand: CommandModule<object, Args> = {
  command: 'network <command>',
  describe: 'Manage networks',
  builder: (y: Argv) => y
    .command(create)
    .command(ls)
    .command(inspect)
    .command(rm)
    .command(prune)
    .command(exists)
    .demandCommand(1, 'Name a network command: create, ls, inspect, rm, prune, exists'),
  handler: () => undefined,
};

export default networkCommand;
