/**
 * Drop-in folder names for a unit, most specific first: `foo-bar@x.container.d`,
 * `foo-bar@.container.d` (instances read their template's), `foo-bar-.container.d`,
 * `foo-.container.d` (dash prefixes), `container.d` (every unit of the kind).
 */
export function dropInDirNames(name: string): string[] {
  const dot = name.lastIndexOf('.');
  const stem = name.slice(0, dot);
  const extension = name.slice(dot);
  const names = [`${name}.d`];
  const at = stem.indexOf('@');
  if (at !== -1 && at < stem.length - 1) names.push(`${stem.slice(0, at + 1)}${extension}.d`);
  const prefix = at === -1 ? stem : stem.slice(0, at);
  for (let dash = prefix.lastIndexOf('-'); dash > 0; dash = prefix.lastIndexOf('-', dash - 1)) {
    const candidate = `${prefix.slice(0, dash + 1)}${extension}.d`;
    if (!names.includes(candidate)) names.push(candidate);
  }
  names.push(`${extension.slice(1)}.d`);
  return names;
}
