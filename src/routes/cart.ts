/** A shopping cart kept in the session, and a flash message shown exactly once. */
import type { FastifyPluginAsync } from "fastify";
import { leaveNotice } from "../notices.js";
import { renderPage } from "./render.js";

interface ItemBody {
  item: string;
}

const itemSchema = {
  body: {
    type: "object",
    required: ["item"],
    properties: { item: { type: "string", minLength: 1, maxLength: 100, pattern: "\\S" } },
  },
};

/**
 * Every cart route reads the list and writes a new one (and the page pops the flash message):
 * the lock runs this session's requests on them one at a time, so two tabs adding at the same
 * moment both keep their item, and the message shows once.
 */
const oneAtATime = { session: { lock: true } };

export const cartRoutes: FastifyPluginAsync<{ clientSide: boolean }> = async (app, { clientSide }) => {
  app.get("/cart/", { config: oneAtATime }, (request, reply) => {
    const flash = request.session.pop("flash", null);
    const cart = request.session.get("cart", []);
    return renderPage(request, reply, "cart.ejs", { title: "Shopping cart", cart, flash, clientSide });
  });

  // Django's way: read, build a new list, assign it back, so the session is marked modified.
  app.post<{ Body: ItemBody }>("/cart/add/", { schema: itemSchema, config: oneAtATime }, (request, reply) => {
    const cart = request.session.get("cart", []);
    const item = request.body.item.trim();
    request.session.set("cart", [...cart, item]);
    leaveNotice(
      reply,
      `Added “${item}”: a new list was assigned to “cart”, so the session is marked modified and saved.`,
    );
    return reply.redirect("/cart/", 303);
  });

  // The pitfall: changing the stored list in place. Django would not save this; here the change
  // is detected and saved (unless SESSION_DETECT_MUTATIONS=false restores Django's rule).
  app.post<{ Body: ItemBody }>("/cart/add-inplace/", { schema: itemSchema, config: oneAtATime }, (request, reply) => {
    const cart = request.session.setdefault("cart", []);
    const item = request.body.item.trim();
    cart.push(item);
    leaveNotice(
      reply,
      app.config.session.SESSION_DETECT_MUTATIONS
        ? `Added “${item}” in place (push onto the stored list). Django would not save that without session.modified = True; this framework saw the change and saved it.`
        : `Pushed “${item}” onto the stored list in place. With SESSION_DETECT_MUTATIONS=false (Django's rule) nothing marks the session modified, so it was not saved.`,
    );
    return reply.redirect("/cart/", 303);
  });

  app.post<{ Body: ItemBody }>("/cart/remove/", { schema: itemSchema, config: oneAtATime }, (request, reply) => {
    const cart = request.session.get("cart", []);
    const item = request.body.item.trim();
    const index = cart.indexOf(item);
    if (index >= 0) request.session.set("cart", cart.toSpliced(index, 1));
    leaveNotice(
      reply,
      index >= 0 ? `Removed “${item}” from your cart.` : `“${item}” was not in your cart: nothing removed.`,
    );
    return reply.redirect("/cart/", 303);
  });

  app.post("/cart/checkout/", { config: oneAtATime }, (request, reply) => {
    const cart = request.session.pop("cart", []);
    request.session.set(
      "flash",
      cart.length === 0
        ? "Your cart is empty: there was nothing to check out."
        : `Thank you! You checked out ${cart.length} item${cart.length === 1 ? "" : "s"}: ${cart.join(", ")}.`,
    );
    return reply.redirect("/cart/", 303);
  });
};
