/** The demo's session shape, declared once: `get`/`set` on these keys are type-checked. */
import type { JsonValue } from "fastify-django-sessions";

export interface DemoSession {
  /** The counter page's visit count. */
  visits?: number;
  /** The cart page's items. */
  cart?: string[];
  /** A one-time message, read with pop() so it shows exactly once. */
  flash?: string;
  /** The /learn/ track's answers: question id → choice id (src/learn/progress.ts). */
  learn?: Record<string, string>;
  /** The set/get pages store any key the visitor types. */
  [key: string]: JsonValue | undefined;
}

declare module "fastify-django-sessions" {
  interface SessionTypes {
    data: DemoSession;
  }
}
