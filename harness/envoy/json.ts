/**
 * Typed access to parsed JSON. Envoy's admin endpoint writes snake_case field names and
 * istioctl (protojson) writes camelCase; every read goes through `get`, which tries the
 * snake_case name and then its camelCase twin, so neither form is ever copied or rewritten.
 */

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const camelCache = new Map<string, string>();

/** snake_case → camelCase, as protojson names fields (cached: the same few names repeat). */
export function camel(snake: string): string {
  let cached = camelCache.get(snake);
  if (cached === undefined) {
    cached = snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    camelCache.set(snake, cached);
  }
  return cached;
}

/** Field by its proto (snake_case) name, falling back to the JSON (camelCase) name. */
export function get(value: unknown, snakeName: string): Json | undefined {
  if (!isObject(value)) return undefined;
  const direct = value[snakeName];
  if (direct !== undefined) return direct;
  const alt = camel(snakeName);
  return alt === snakeName ? undefined : value[alt];
}

export function getObject(value: unknown, snakeName: string): JsonObject | undefined {
  const field = get(value, snakeName);
  return isObject(field) ? field : undefined;
}

export function getArray(value: unknown, snakeName: string): Json[] {
  const field = get(value, snakeName);
  return Array.isArray(field) ? field : [];
}

export function getString(value: unknown, snakeName: string): string | undefined {
  const field = get(value, snakeName);
  return typeof field === 'string' ? field : undefined;
}

/**
 * Numbers in dumps come as JSON numbers, as strings (uint64 in protojson) or, in old
 * gogo-jsonpb output, as wrapper objects `{"value": n}`: accept all three.
 */
export function toNumber(field: Json | undefined): number | undefined {
  if (typeof field === 'number') return field;
  if (typeof field === 'string' && field.trim() !== '' && Number.isFinite(Number(field))) return Number(field);
  if (isObject(field)) return toNumber(field.value);
  return undefined;
}

export function getNumber(value: unknown, snakeName: string): number | undefined {
  return toNumber(get(value, snakeName));
}

/** BoolValue wrappers come as plain booleans or `{"value": true}`. */
export function getBool(value: unknown, snakeName: string): boolean | undefined {
  const field = get(value, snakeName);
  if (typeof field === 'boolean') return field;
  if (isObject(field) && typeof field.value === 'boolean') return field.value;
  return undefined;
}

export function strings(values: Json[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}

/** The `@type` of an Any, e.g. "type.googleapis.com/envoy.config.listener.v3.Listener". */
export function typeUrl(value: unknown): string {
  return isObject(value) && typeof value['@type'] === 'string' ? value['@type'] : '';
}
