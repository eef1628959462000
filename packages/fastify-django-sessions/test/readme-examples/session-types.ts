// session-types.ts: declare the session's shape once; get() and set() are then checked everywhere.
import "fastify-django-sessions";

export interface MySession {
  visits?: number;
  cart?: string[];
  userId?: number;
}

declare module "fastify-django-sessions" {
  interface SessionTypes {
    data: MySession;
  }
}
