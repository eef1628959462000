/**
 * Django's JSONSerializer: compact separators, non-ASCII escaped as \uXXXX, insertion order kept.
 * The output is ASCII, so its latin-1 bytes (what Django signs) equal its UTF-16 code units.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Whether parsed JSON is an object (a session's data), not an array, a primitive or null. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class NotSerializableError extends TypeError {
  constructor(what: string) {
    super(`Object of type ${what} is not JSON serializable`);
    this.name = "NotSerializableError";
  }
}

// Python escapes everything outside space..~, so DEL (0x7f) too.
const NON_ASCII = /[\u007f-\uffff]/g;
const HAS_NON_ASCII = /[\u007f-\uffff]/;

function escapeNonAscii(ch: string): string {
  return "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0");
}

/**
 * Rejects what Django's encoder would reject instead of letting JSON.stringify drop or mangle it.
 * The holder's raw value is checked: `value` has already been through toJSON (Date, Buffer).
 */
function strictReplacer(this: Record<string, unknown>, key: string): unknown {
  const value = this[key];
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new NotSerializableError(String(value));
      return value;
    case "object": {
      if (value === null || Array.isArray(value)) return value;
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new NotSerializableError(value.constructor?.name ?? "object");
      }
      return value;
    }
    default:
      // undefined, function, symbol, bigint: Django raises where JSON.stringify would silently drop.
      throw new NotSerializableError(typeof value);
  }
}

/**
 * A top-level Map is written in its insertion order: a plain object would move integer-like
 * keys ("2", "10") to the front, where Python keeps the dict's order.
 */
export function dumps(value: unknown): string {
  const text =
    value instanceof Map
      ? `{${Array.from(value, ([k, v]: [string, unknown]) => `${JSON.stringify(String(k))}:${JSON.stringify(v, strictReplacer)}`).join(",")}}`
      : JSON.stringify(value, strictReplacer);
  return HAS_NON_ASCII.test(text) ? text.replace(NON_ASCII, escapeNonAscii) : text;
}

export function loads(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}
