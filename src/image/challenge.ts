/**
 * WWW-Authenticate challenges (RFC 7235) as registries send them:
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
 *   Basic realm="Registry Realm"
 */
export interface Challenge {
  scheme: string; // lower-case: "bearer", "basic"
  params: Record<string, string>; // keys lower-cased
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const headers = Array.isArray(header) ? header : [header];
  const challenges: Challenge[] = [];
  for (const text of headers) {
    let i = 0;
    let current: Challenge | undefined;
    const skipSpace = (): void => {
      while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    };
    while (i < text.length) {
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      const tokenMatch = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(text.slice(i));
      if (!tokenMatch) break;
      const token = tokenMatch[0];
      i += token.length;
      skipSpace();
      if (text[i] === '=') {
        i++;
        skipSpace();
        let value = '';
        if (text[i] === '"') {
          i++;
          while (i < text.length && text[i] !== '"') {
            if (text[i] === '\\' && i + 1 < text.length) i++;
            value += text[i++];
          }
          i++;
        } else {
          const m = /^[^,\s]*/.exec(text.slice(i))!;
          value = m[0];
          i += value.length;
        }
        if (current) current.params[token.toLowerCase()] = value;
      } else {
        current = { scheme: token.toLowerCase(), params: {} };
        challenges.push(current);
      }
    }
  }
  return challenges;
}
