import assert from 'node:assert/strict';
import test from 'node:test';
import { UsageError } from '../../../src/errors/index.js';
import { parseNetworkOption } from '../../../src/network/mode.js';

test('network mode: default, bridge and named networks', () => {
  assert.deepEqual(parseNetworkOption([]), { kind: 'bridge', networks: [{ name: 'berth', aliases: [], staticIps: [] }] });
  assert.deepEqual(parseNetworkOption(['bridge']), parseNetworkOption([]));
  assert.deepEqual(parseNetworkOption(['private']), parseNetworkOption([]));
  const two = parseNetworkOption(['front,back']);
  assert.deepEqual(two.kind === 'bridge' && two.networks.map((n) => n.name), ['front', 'back']);
  assert.deepEqual(parseNetworkOption(['front', 'back']), two);
  assert.deepEqual(parseNetworkOption(['app'], { aliases: ['db'], ips: ['10.91.0.9'] }), {
    kind: 'bridge', networks: [{ name: 'app', aliases: ['db'], staticIps: ['10.91.0.9'] }],
  });
  assert.deepEqual(parseNetworkOption(['app:ip=10.91.0.5,alias=a,alias=b,mac=AA:bb:cc:dd:ee:ff,interface_name=net1']), {
    kind: 'bridge', networks: [{ name: 'app', aliases: ['a', 'b'], staticIps: ['10.91.0.5'], staticMac: 'aa:bb:cc:dd:ee:ff', interfaceName: 'net1' }],
  });
});

test('network mode: host, none, container:, ns:', () => {
  assert.deepEqual(parseNetworkOption(['host']), { kind: 'host' });
  assert.deepEqual(parseNetworkOption(['none']), { kind: 'none' });
  assert.deepEqual(parseNetworkOption(['container:web']), { kind: 'container', container: 'web' });
  assert.deepEqual(parseNetworkOption(['ns:/run/netns/x']), { kind: 'ns', path: '/run/netns/x' });
});

test('network mode: bad combinations are usage errors naming the value', () => {
  const bad: [string[], { aliases?: string[]; ips?: string[] } | undefined, RegExp][] = [
    [['host', 'app'], undefined, /"host" cannot be combined/],
    [['none'], { aliases: ['x'] }, /--network-alias needs a bridge network/],
    [['host'], { ips: ['10.0.0.1'] }, /--ip needs a bridge network/],
    [['a', 'b'], { ips: ['10.0.0.1'] }, /apply to one network/],
    [['app'], { ips: ['nope'] }, /--ip "nope" is not an IP address/],
    [['ns:relative'], undefined, /must be absolute/],
    [['container:'], undefined, /needs a container/],
    [['app:ip=1.2.3'], undefined, /"1.2.3" is not an IP address/],
    [['app:color=red'], undefined, /unknown option "color"/],
    [['bad name'], undefined, /invalid network name/],
    [['app', 'app'], undefined, /given twice/],
    [['pasta'], undefined, /not supported yet/],
  ];
  for (const [values, opts, message] of bad) {
    assert.throws(() => parseNetworkOption(values, opts), (e: unknown) => e instanceof UsageError && message.test(e.message), values.join(' '));
  }
});
