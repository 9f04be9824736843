import type { HttpMethod } from '../../domain/api-schemas.ts';

export interface RouteMatch<T> {
  route: T;
  params: Record<string, string>;
}

export type RouteLookup<T> =
  | { kind: 'match'; match: RouteMatch<T> }
  | { kind: 'not_found' }
  | { kind: 'method_not_allowed'; allow: HttpMethod[] };

interface Compiled<T> {
  route: T;
  method: HttpMethod;
  segments: string[];
  literals: number;
}

/**
 * A small router over `{name}` path templates. It matches the request path itself rather than
 * API Gateway's `resource`, so a proxy resource in AWS and the local server route identically.
 * The most literal matching template wins, as in API Gateway: `/recalls/segments` shadows
 * `/recalls/{recallId}`, so `GET /recalls/segments` is a 405 (Allow: POST), not a recall lookup.
 */
export class Router<T extends { method: HttpMethod; path: string }> {
  private readonly compiled: Compiled<T>[];

  constructor(routes: readonly T[]) {
    this.compiled = routes
      .map((route) => {
        const segments = split(route.path);
        return {
          route,
          method: route.method,
          segments,
          literals: segments.filter((s) => !s.startsWith('{')).length,
        };
      })
      .sort((a, b) => b.literals - a.literals);
  }

  lookup(method: string, path: string): RouteLookup<T> {
    const parts = split(path).map(decodeSegment);
    if (parts.some((p) => p === undefined)) return { kind: 'not_found' };
    const allow = new Set<HttpMethod>();
    let best = -1;
    for (const candidate of this.compiled) {
      // Sorted most literal first: once a path matched, less specific templates do not apply.
      if (candidate.literals < best) break;
      const params = matchSegments(candidate.segments, parts as string[]);
      if (!params) continue;
      best = candidate.literals;
      if (candidate.method === method) return { kind: 'match', match: { route: candidate.route, params } };
      allow.add(candidate.method);
    }
    return allow.size > 0 ? { kind: 'method_not_allowed', allow: [...allow].sort() } : { kind: 'not_found' };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  if (template.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    const p = parts[i]!;
    if (t.startsWith('{') && t.endsWith('}')) params[t.slice(1, -1)] = p;
    else if (t !== p) return undefined;
  }
  return params;
}
