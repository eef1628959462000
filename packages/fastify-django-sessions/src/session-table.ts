/**
 * The name of the db and cached_db engines' table (SESSION_DB_TABLE). The engines' kysely types
 * call it `sessions`; a plugin puts the configured name in every query they build, so their
 * queries stay typed whatever the table is called (Django's is `django_session`).
 *
 * kysely is an optional peer that the package loads only when an engine needs it, so the plugin
 * uses kysely's types alone: it walks the query's operation nodes (plain frozen objects) itself.
 */
import type {
  Kysely,
  KyselyPlugin,
  OperationNode,
  PluginTransformQueryArgs,
  PluginTransformResultArgs,
  QueryResult,
  RootOperationNode,
  UnknownRow,
} from "kysely";

/** The table's name in the engines' kysely types, and the default SESSION_DB_TABLE. */
export const DEFAULT_SESSION_TABLE = "sessions";
/** Django's table (django.contrib.sessions' Session model). */
export const DJANGO_SESSION_TABLE = "django_session";

type Node = OperationNode & Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && typeof (value as { kind?: unknown }).kind === "string";
}

/** A TableNode naming `name` (FROM, INTO, UPDATE, or the table of a qualified column). */
function namesTable(node: Node, name: string): boolean {
  if (node.kind !== "TableNode" || !isNode(node.table)) return false;
  const identifier = node.table.identifier;
  return isNode(identifier) && identifier.name === name;
}

/**
 * `node` with every TableNode naming `from` renamed `to`; the same object where nothing changed.
 * Values (ValueNode, PrimitiveValueListNode) are not walked: they are data, not SQL.
 */
function renameTable(node: Node, from: string, to: string): Node {
  if (node.kind === "ValueNode" || node.kind === "PrimitiveValueListNode") return node;
  if (namesTable(node, from)) {
    const table = node.table as Node;
    return { ...node, table: { ...table, identifier: { ...(table.identifier as Node), name: to } } };
  }
  let copy: Node | undefined;
  for (const [key, value] of Object.entries(node)) {
    let next: unknown = value;
    if (isNode(value)) next = renameTable(value, from, to);
    else if (Array.isArray(value)) {
      const items = value.map((item: unknown) => (isNode(item) ? renameTable(item, from, to) : item));
      if (items.some((item, i) => item !== value[i])) next = Object.freeze(items);
    }
    if (next !== value) (copy ??= { ...node })[key] = next;
  }
  return copy ? Object.freeze(copy) : node;
}

class SessionTablePlugin implements KyselyPlugin {
  constructor(private readonly table: string) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return renameTable(args.node as unknown as Node, DEFAULT_SESSION_TABLE, this.table) as unknown as RootOperationNode;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/**
 * `db` whose queries that name the `sessions` table reach `table` instead; `db` itself when the
 * names are the same (no plugin, nothing to pay per query). `table` must be a checked name
 * (SESSION_DB_TABLE is validated when the settings are resolved).
 */
export function withSessionTable<DB>(db: Kysely<DB>, table: string): Kysely<DB> {
  return table === DEFAULT_SESSION_TABLE ? db : db.withPlugin(new SessionTablePlugin(table));
}

/** `name` as a double-quoted SQL identifier (SQLite and PostgreSQL). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
