/** The translators as pure functions: parsed source in, service out (no disk). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitWords, UnitFile } from '../../../src/unit/index.js';
import {
  generate, QuadletError, translateContainer, translateNetwork, translatePod, translateVolume,
  type Kind, type SourceUnit, type TranslateContext, type UnitInfo,
} from '../../../src/quadlet/index.js';

const ENGINE = '/opt/berth/bin/berth.js';

function source(name: string, text: string): SourceUnit {
  const kind = name.slice(name.lastIndexOf('.') + 1) as Kind;
  const path = `/etc/containers/systemd/${name}`;
  return { name, kind, path, unit: UnitFile.parse(text, path) };
}

function context(extra: Record<string, Partial<UnitInfo>> = {}, user = false): TranslateContext {
  const units = new Map<string, UnitInfo>();
  for (const [name, info] of Object.entries(extra)) {
    units.set(name, { serviceName: name.replace('.', '-'), resourceName: `systemd-${name.split('.')[0]}`, containersToStart: [], ...info });
  }
  return { user, engine: ENGINE, units, pathExists: (path) => path === '/dev/present' };
}

function withSelf(ctx: TranslateContext, name: string, info: Partial<UnitInfo> = {}): TranslateContext {
  const base = name.slice(0, name.lastIndexOf('.'));
  const suffix = name.endsWith('.container') ? '' : `-${name.slice(name.lastIndexOf('.') + 1)}`;
  ctx.units.set(name, { serviceName: `${base}${suffix}`, resourceName: `systemd-${base}`, containersToStart: [], ...info });
  return ctx;
}

function words(service: { lookupLast(section: string, key: string): string | undefined }, key = 'ExecStart'): string[] {
  return splitWords(service.lookupLast('Service', key)!);
}

describe('translateContainer', () => {
  test('minimal container: supervision settings and the run line', () => {
    const src = source('web.container', '[Container]\nImage=docker.io/library/nginx:1.27\n');
    const service = translateContainer(src, withSelf(context(), 'web.container'));
    assert.deepEqual(words(service), [ENGINE, 'run', '--name', 'systemd-%N', '--cidfile=%t/%N.cid', '--replace', '--rm',
      '--cgroups=split', '--sdnotify=conmon', '-d', 'docker.io/library/nginx:1.27']);
    assert.equal(service.lookupLast('Service', 'Type'), 'notify');
    assert.equal(service.lookupLast('Service', 'NotifyAccess'), 'all');
    assert.equal(service.lookupLast('Service', 'Delegate'), 'yes');
    assert.equal(service.lookupLast('Service', 'KillMode'), 'mixed');
    assert.equal(service.lookupLast('Service', 'SyslogIdentifier'), '%N');
    assert.equal(service.lookupLast('Service', 'Environment'), 'PODMAN_SYSTEMD_UNIT=%n');
    assert.equal(service.lookupLast('Service', 'ExecStop'), `${ENGINE} rm -v -f -i --cidfile=%t/%N.cid`);
    assert.equal(service.lookupLast('Service', 'ExecStopPost'), `-${ENGINE} rm -v -f -i --cidfile=%t/%N.cid`);
    assert.deepEqual(service.lookupAll('Unit', 'Wants'), ['network-online.target']);
    assert.equal(service.lookupLast('Unit', 'SourcePath'), '/etc/containers/systemd/web.container');
    assert.deepEqual(service.sectionNames(), ['X-Container', 'Unit', 'Service']);
  });

  test('user mode waits for the user network-online helper', () => {
    const src = source('web.container', '[Container]\nImage=x\n');
    const service = translateContainer(src, withSelf(context({}, true), 'web.container'));
    assert.deepEqual(service.lookupAll('Unit', 'After'), ['podman-user-wait-network-online.service']);
  });

  test('words with spaces and quotes survive the trip through an Exec line', () => {
    const src = source('q.container', '[Container]\nImage=x\nEnvironment="A=two words" "B=it\'s"\nExec=sh -c "echo \\"hi\\"; exit 3"\n');
    const service = translateContainer(src, withSelf(context(), 'q.container'));
    assert.deepEqual(words(service).slice(-7), ['--env', 'A=two words', '--env', "B=it's", 'x', 'sh', '-c', 'echo "hi"; exit 3'].slice(-7));
    assert.deepEqual(words(service).slice(-3), ['sh', '-c', 'echo "hi"; exit 3']);
  });

  test('Rootfs instead of Image, Group needs User', () => {
    const rootfs = translateContainer(source('r.container', '[Container]\nRootfs=/srv/root\n'), withSelf(context(), 'r.container'));
    assert.deepEqual(words(rootfs).slice(-2), ['--rootfs', '/srv/root']);
    assert.throws(() => translateContainer(source('g.container', '[Container]\nImage=x\nGroup=10\n'), withSelf(context(), 'g.container')),
      (error: unknown) => error instanceof QuadletError && error.message === 'g.container:3: [Container] Group="10": Group= needs User=');
    assert.throws(() => translateContainer(source('b.container', '[Container]\nImage=x\nRootfs=/r\n'), withSelf(context(), 'b.container')),
      /Image= and Rootfs= cannot both be set/);
  });

  test('references resolve to resource names and add dependencies', () => {
    const ctx = withSelf(context({
      'net.network': { serviceName: 'net-network', resourceName: 'systemd-net' },
      'data.volume': { serviceName: 'data-volume', resourceName: 'data' },
      'app.pod': { serviceName: 'app-pod', resourceName: 'systemd-app' },
      'db.container': { serviceName: 'db', resourceName: 'systemd-db' },
    }), 'web.container');
    const src = source('web.container', '[Container]\nImage=x\nNetwork=net.network:ip=10.0.0.5\nNetwork=db.container\nVolume=data.volume:/d:ro\nPod=app.pod\n');
    const service = translateContainer(src, ctx);
    const argv = words(service);
    assert.ok(argv.join(' ').includes('--network systemd-net:ip=10.0.0.5 --network container:systemd-db'));
    assert.ok(argv.join(' ').includes('-v data:/d:ro'));
    assert.ok(argv.join(' ').includes('--pod-id-file %t/app-pod.pod-id'));
    assert.deepEqual(service.lookupAll('Unit', 'Requires'), ['net-network.service', 'db.service', 'data-volume.service']);
    assert.deepEqual(service.lookupAll('Unit', 'BindsTo'), ['app-pod.service']);
    assert.deepEqual(service.lookupAll('Unit', 'After'),
      ['network-online.target', 'net-network.service', 'db.service', 'data-volume.service', 'app-pod.service']);
  });

  test('a missing reference names the key and the file', () => {
    const src = source('web.container', '[Container]\nImage=x\nVolume=gone.volume:/d\n');
    assert.throws(() => translateContainer(src, withSelf(context(), 'web.container')),
      (error: unknown) => error instanceof QuadletError && error.code === 'quadlet-unknown-unit'
        && error.message === 'web.container:3: [Container] Volume= refers to "gone.volume", which does not exist');
  });

  test('AddDevice=- only when the device exists; capabilities lower-cased', () => {
    const src = source('d.container', '[Container]\nImage=x\nAddDevice=-/dev/present:/dev/p\nAddDevice=-/dev/absent\nAddCapability=CAP_NET_RAW\nDropCapability=CAP_MKNOD\n');
    const argv = words(translateContainer(src, withSelf(context(), 'd.container'))).join(' ');
    assert.ok(argv.includes('--device /dev/present:/dev/p'));
    assert.ok(!argv.includes('/dev/absent'));
    assert.ok(argv.includes('--cap-drop cap_mknod --cap-add cap_net_raw'));
  });

  test('Type=oneshot: no notify, no detach; other types are refused', () => {
    const oneshot = translateContainer(source('o.container', '[Container]\nImage=x\n[Service]\nType=oneshot\n'), withSelf(context(), 'o.container'));
    assert.ok(!words(oneshot).includes('-d'));
    assert.equal(oneshot.lookupLast('Service', 'Type'), 'oneshot');
    assert.throws(() => translateContainer(source('f.container', '[Container]\nImage=x\n[Service]\nType=forking\n'), withSelf(context(), 'f.container')),
      /f\.container:4: \[Service\] Type="forking"/);
  });

  test('templates name their containers by prefix and instance', () => {
    const service = translateContainer(source('sleep@.container', '[Container]\nImage=x\nExec=sleep %i\n'), withSelf(context(), 'sleep@.container'));
    assert.deepEqual(words(service).slice(2, 4), ['--name', 'systemd-%p_%i']);
  });
});

describe('translateVolume', () => {
  test('mount options gather into one o=', () => {
    const src = source('v.volume', '[Volume]\nDevice=/dev/sdb1\nType=ext4\nUser=1000\nGroup=1000\nOptions=noatime\nCopy=false\nLabel=a=b\n');
    const service = translateVolume(src, withSelf(context(), 'v.volume'));
    assert.deepEqual(words(service), [ENGINE, 'volume', 'create', '--ignore', '--opt', 'nocopy', '--opt', 'device=/dev/sdb1',
      '--opt', 'type=ext4', '--opt', 'o=uid=1000,gid=1000,noatime', '--label', 'a=b', 'systemd-v']);
    assert.equal(service.lookupLast('Service', 'Type'), 'oneshot');
    assert.equal(service.lookupLast('Service', 'RemainAfterExit'), 'yes');
  });

  test('Options= needs Device=; User= must be numeric', () => {
    assert.throws(() => translateVolume(source('v.volume', '[Volume]\nOptions=x\n'), withSelf(context(), 'v.volume')), /Options= needs Device=/);
    assert.throws(() => translateVolume(source('v.volume', '[Volume]\nUser=root\n'), withSelf(context(), 'v.volume')), /not a numeric id/);
  });
});

describe('translateNetwork', () => {
  test('subnets pair with gateways and ranges in order', () => {
    const src = source('n.network', '[Network]\nSubnet=10.0.0.0/24\nSubnet=10.0.1.0/24\nGateway=10.0.0.1\nIPRange=10.0.0.128/25\nInternal=true\nNetworkName=backend\n');
    const service = translateNetwork(src, withSelf(context(), 'n.network', { resourceName: 'backend' }));
    assert.deepEqual(words(service), [ENGINE, 'network', 'create', '--ignore', '--internal', '--subnet', '10.0.0.0/24', '--gateway', '10.0.0.1',
      '--ip-range', '10.0.0.128/25', '--subnet', '10.0.1.0/24', 'backend']);
  });

  test('more gateways than subnets is an error at the extra gateway', () => {
    const src = source('n.network', '[Network]\nSubnet=10.0.0.0/24\nGateway=10.0.0.1\nGateway=10.0.0.2\n');
    assert.throws(() => translateNetwork(src, withSelf(context(), 'n.network')), /n\.network:4: \[Network\] Gateway="10\.0\.0\.2": more Gateway= than Subnet=/);
  });
});

describe('translatePod', () => {
  test('create, start, stop and the containers that start with it', () => {
    const ctx = withSelf(context(), 'app.pod', { serviceName: 'app-pod', resourceName: 'systemd-app', containersToStart: ['api.service', 'db.service'] });
    const service = translatePod(source('app.pod', '[Pod]\nPublishPort=8080:80\n'), ctx);
    assert.deepEqual(service.lookupAll('Unit', 'Wants'), ['network-online.target', 'api.service', 'db.service']);
    assert.deepEqual(service.lookupAll('Unit', 'Before'), ['api.service', 'db.service']);
    assert.deepEqual(words(service, 'ExecStartPre'), [ENGINE, 'pod', 'create', '--infra-conmon-pidfile=%t/%N.pid', '--pod-id-file=%t/%N.pod-id',
      '--exit-policy=stop', '--replace', '--publish', '8080:80', '--infra-name', 'systemd-app-infra', '--name', 'systemd-app']);
    assert.deepEqual(words(service), [ENGINE, 'pod', 'start', '--pod-id-file=%t/%N.pod-id']);
    assert.equal(service.lookupLast('Service', 'Type'), 'forking');
    assert.equal(service.lookupLast('Service', 'PIDFile'), '%t/%N.pid');
  });
});

describe('generate', () => {
  const options = { user: false, engine: ENGINE, pathExists: () => false };

  test('a broken file becomes a failing stand-in and the others are still generated', () => {
    const result = generate([
      source('good.container', '[Container]\nImage=x\n'),
      source('bad.container', '[Container]\nImagee=x\n[Install]\nWantedBy=default.target\n'),
    ], [], options);
    assert.deepEqual(result.errors.map((e) => e.message), ['bad.container:2: [Container] unknown key "Imagee" (did you mean "Image"?)']);
    const bad = result.units.find((u) => u.fileName === 'bad.service')!;
    const parsed = UnitFile.parse(bad.text);
    assert.equal(parsed.lookupLast('Unit', 'X-Berth-Error'), 'bad.container:2: [Container] unknown key "Imagee" (did you mean "Image"?)');
    assert.deepEqual(splitWords(parsed.lookupLast('Service', 'ExecStart')!).slice(0, 2), ['/bin/sh', '-c']);
    assert.deepEqual(bad.links, [{ link: 'default.target.wants/bad.service', target: '../bad.service' }]);
    assert.ok(result.units.find((u) => u.fileName === 'good.service')!.text.includes('run --name systemd-%N'));
  });

  test('the failing stand-in carries the message literally (% and $ escaped for systemd)', () => {
    const result = generate([source('p.container', '[Container]\nImage=x\nReadOnly=100%$HOME\n')], [], options);
    const start = UnitFile.parse(result.units[0]!.text).lookupLast('Service', 'ExecStart')!;
    const argv = splitWords(start);
    assert.equal(argv[3], 'p.container:3: [Container] ReadOnly="100%%$$HOME": not a boolean (use true or false)');
    assert.equal(argv[2], 'printf \'%%s\\n\' "$$0" >&2; exit 1');
  });

  test('pods learn their containers; StartWithPod=false stays out', () => {
    const result = generate([
      source('app.pod', '[Pod]\n'),
      source('b.container', '[Container]\nImage=x\nPod=app.pod\n'),
      source('a.container', '[Container]\nImage=x\nPod=app.pod\n'),
      source('c.container', '[Container]\nImage=x\nPod=app.pod\nStartWithPod=no\n'),
    ], [], options);
    const pod = UnitFile.parse(result.units.find((u) => u.fileName === 'app-pod.service')!.text);
    assert.deepEqual(pod.lookupAll('Unit', 'Wants'), ['network-online.target', 'a.service', 'b.service']);
  });

  test('ordering cycles fail every unit on the cycle', () => {
    const result = generate([
      source('a.container', '[Container]\nImage=x\nNetwork=b.container\n'),
      source('b.container', '[Unit]\nAfter=c.service\n[Container]\nImage=x\n'),
      source('c.container', '[Container]\nImage=x\nNetwork=a.container\n'),
      source('d.container', '[Container]\nImage=x\nNetwork=a.container\n'),
    ], [], options);
    assert.deepEqual(result.errors.map((e) => e.message).sort(), [
      'a.container: dependency cycle: a.service -> b.service -> c.service -> a.service',
      'b.container: dependency cycle: a.service -> b.service -> c.service -> a.service',
      'c.container: dependency cycle: a.service -> b.service -> c.service -> a.service',
    ]);
    assert.ok(!result.units.find((u) => u.fileName === 'd.service')!.error);
  });

  test('two files claiming one service name: the first keeps it, the second is an error', () => {
    const result = generate([
      source('a.container', '[Container]\nImage=x\nServiceName=web\n'),
      source('web.container', '[Container]\nImage=y\n'),
    ], [], options);
    assert.deepEqual(result.errors.map((e) => e.message), ['web.container: [Container] service name "web.service" is already generated from a.container']);
    assert.equal(result.units.length, 1);
    assert.ok(result.units[0]!.text.includes(' y\n') === false && result.units[0]!.text.includes(' x\n'));
  });

  test('names that could leave the output folder are refused', () => {
    const result = generate([
      source('esc.container', '[Container]\nImage=x\nServiceName=../../etc/evil\n'),
      source('link.container', '[Container]\nImage=x\n[Install]\nWantedBy=../../etc/x.target\n'),
    ], [], options);
    assert.deepEqual(result.errors.map((e) => e.message), [
      'esc.container:3: [Container] ServiceName="../../etc/evil": not a unit name',
      'link.container:4: [Install] WantedBy="../../etc/x.target": not a unit name',
    ]);
    assert.deepEqual(result.units.map((u) => [u.fileName, u.links]), [['esc.service', []], ['link.service', []]]);
  });

  test('keys in the wrong place are named with their section', () => {
    const result = generate([
      source('w.container', '[Container]\nImage=x\n[Unit]\nVolume=/a:/b\n'),
      source('v.volume', '[Volume]\nSubnet=10.0.0.0/8\n'),
      source('q.container', '[Container]\nImage=x\n[Quadlet]\nDefaultDependency=false\n'),
    ], [], options);
    assert.deepEqual(result.errors.map((e) => e.message), [
      'v.volume:2: [Volume] unknown key "Subnet" (it is a key of .network files)',
      'q.container:4: [Quadlet] unknown key "DefaultDependency" (did you mean "DefaultDependencies"?)',
      'w.container:4: [Unit] key "Volume" belongs in [Container], not [Unit]',
    ]);
  });
});
