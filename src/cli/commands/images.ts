/**
 * `berth images` (= `berth image ls`): REPOSITORY TAG IMAGE ID CREATED SIZE, `--format json`, `-q`.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors/index.js';
import { splitName, type StoredImage } from '../../image/store/index.js';
import { humanAgo, humanSize, imageRows, openStore, printColumns } from './image-support.js';

type Args = { root?: string; runroot?: string; reference?: string; quiet?: boolean; format?: string; 'no-trunc'?: boolean; noheading?: boolean; digests?: boolean; all?: boolean; filter?: string[] };

/** Podman's `--filter dangling=true|false` and `--filter reference=PATTERN` (`*` wildcards, matched against names and repositories). */
function applyFilters(images: StoredImage[], filters: string[]): StoredImage[] {
  let out = images;
  for (const filter of filters) {
    const eq = filter.indexOf('=');
    const key = eq === -1 ? filter : filter.slice(0, eq);
    const value = eq === -1 ? '' : filter.slice(eq + 1);
    if (key === 'dangling') {
      if (value !== 'true' && value !== 'false') throw new UsageError('bad-filter', `invalid filter "${filter}" (dangling=true|false)`);
      out = out.filter((i) => (i.names.length === 0) === (value === 'true'));
    } else if (key === 'reference') {
      const pattern = new RegExp(`^${value.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      out = out.filter((i) => i.names.some((n) => {
        const { repository, tag } = splitName(n);
        return [n, repository, `${repository.split('/').pop()}:${tag}`, repository.split('/').pop()!].some((c) => pattern.test(c));
      }));
    } else {
      throw new UsageError('bad-filter', `unsupported filter "${filter}" (berth knows dangling=, reference=)`);
    }
  }
  return out;
}

export function imagesBuilder(y: Argv): Argv<Args> {
  return y
    .positional('reference', { type: 'string', describe: 'Only images whose name matches' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print image IDs only' })
    .option('format', { type: 'string', describe: '"json", or a Go template such as {{.Repository}}:{{.Tag}}' })
    .option('no-trunc', { type: 'boolean', default: false, describe: 'Full image IDs' })
    .option('noheading', { alias: 'n', type: 'boolean', default: false, describe: 'No header line' })
    .option('digests', { type: 'boolean', default: false, describe: 'Show manifest digests' })
    .option('filter', { alias: 'f', type: 'string', array: true, describe: 'dangling=true|false, reference=PATTERN' })
    .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Accepted for Podman compatibility (no intermediate images here)' }) as Argv<Args>;
}

export async function imagesHandler(argv: Args): Promise<void> {
  const store = await openStore(argv);
  let images = await store.listImages();
  if (argv.reference) {
    const match = await store.findImage(argv.reference);
    images = match ? [match] : [];
  }
  images = applyFilters(images, (argv.filter ?? []).map(String));
  const rows = imageRows(images);
  if (argv.quiet) {
    const seen = new Set<string>();
    for (const r of rows) if (!seen.has(r.id)) { seen.add(r.id); process.stdout.write(`${argv['no-trunc'] ? `sha256:${r.id}` : r.id.slice(0, 12)}\n`); }
    return;
  }
  if (argv.format === 'json') {
    const byId = new Map(images.map((i) => [i.id, i]));
    const out = [...new Set(rows.map((r) => r.id))].map((id) => {
      const i = byId.get(id)!;
      return { Id: i.id, ParentId: '', RepoTags: i.names, RepoDigests: i.digests.map((d) => `${i.names[0]?.replace(/[:@].*$/, '') ?? ''}@${d}`), Size: i.size, Created: i.created ? Math.floor(Date.parse(i.created) / 1000) : 0, CreatedAt: i.created, Names: i.names, Digest: i.digest, Dangling: i.names.length === 0 };
    });
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  if (argv.format !== undefined) {
    for (const r of rows) {
      const fields: Record<string, string> = { Repository: r.repository, Tag: r.tag, ID: r.id.slice(0, 12), Id: r.id, Digest: r.digest, Created: humanAgo(r.created), CreatedAt: r.created ?? '', Size: humanSize(r.size) };
      const text = argv.format.replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, key: string) => {
        if (!(key in fields)) throw new UsageError('bad-format', `unknown field "${key}" in --format (have ${Object.keys(fields).join(', ')})`);
        return fields[key]!;
      });
      process.stdout.write(`${text}\n`);
    }
    return;
  }
  const header = ['REPOSITORY', 'TAG', ...(argv.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
  printColumns(header, rows.map((r) => [r.repository, r.tag, ...(argv.digests ? [r.digest] : []), argv['no-trunc'] ? `sha256:${r.id}` : r.id.slice(0, 12), humanAgo(r.created), humanSize(r.size)]), argv.noheading);
}

export const imagesCommand: CommandModule<object, Args> = {
  command: 'images [reference]',
  describe: 'List images in local storage',
  builder: imagesBuilder,
  handler: imagesHandler,
};
