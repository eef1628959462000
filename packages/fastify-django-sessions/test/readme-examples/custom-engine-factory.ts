// my-engine-factory.ts: the same store through defineEngine, where an engine needs the app's resources.
import { defineEngine, type EngineContext, type EngineResources, type SessionEngine } from "fastify-django-sessions";
import { SessionStore } from "./custom-engine.js";

export function createEngine(context: EngineContext, _resources: EngineResources): SessionEngine {
  return defineEngine("my-engine", context, (key, ctx) => new SessionStore(key, ctx), {
    mergesSaves: true,
    clearExpired: () => SessionStore.clearExpired(context),
  });
}
