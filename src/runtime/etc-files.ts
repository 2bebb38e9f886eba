/**
 * The files every container gets generated in its run dir and bind-mounted over the image's:
 * /etc/hosts, /etc/hostname, /etc/resolv.conf (contents from the network layer) and Podman's
 * /run/.containerenv marker.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface EtcFilePaths { hosts: string; hostname: string; resolvConf: string; containerEnv: string }

export function etcFilePaths(runDir: string): EtcFilePaths {
  return {
    hosts: path.join(runDir, 'hosts'),
    hostname: path.join(runDir, 'hostname'),
    resolvConf: path.join(runDir, 'resolv.conf'),
    containerEnv: path.join(runDir, '.containerenv'),
  };
}

export interface EtcFilesInput { hostname: string; hostsFile: string; resolvConf: string; name: string; id: string; image: string; imageId: string }

export function containerEnvText(input: EtcFilesInput, version: string, rootless: boolean): string {
  return `engine="berth-${version}"\nname="${input.name}"\nid="${input.id}"\nimage="${input.image}"\nimageid="${input.imageId}"\nrootless=${rootless ? 1 : 0}\n`;
}

export function writeEtcFiles(runDir: string, input: EtcFilesInput, version: string, rootless: boolean): EtcFilePaths {
  const paths = etcFilePaths(runDir);
  fs.mkdirSync(runDir, { recursive: true });
  fs.writeFileSync(paths.hosts, input.hostsFile, { mode: 0o644 });
  fs.writeFileSync(paths.hostname, `${input.hostname}\n`, { mode: 0o644 });
  fs.writeFileSync(paths.resolvConf, input.resolvConf, { mode: 0o644 });
  fs.writeFileSync(paths.containerEnv, containerEnvText(input, version, rootless), { mode: 0o644 });
  return paths;
}
