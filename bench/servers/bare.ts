/**
 * The limit: the same Fastify, the same routes and the same counting hook, no sessions at all.
 * Each route answers what a session route would, from a constant.
 */
import Fastify from "fastify";
import { PATHS, serve, type VisitsBody } from "./link.js";

const app = Fastify();
const answer = (): VisitsBody => ({ visits: 1 });
for (const path of Object.values(PATHS)) app.get(path, answer);

await serve({ app });
