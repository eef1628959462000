/** Lesson 2: request.session used as a dictionary, and where that comparison stops holding. */
import type { Lesson } from "../lesson.js";

export const lesson = {
  slug: "session-as-a-dictionary",
  number: 2,
  title: "request.session as a dictionary",
  summary:
    "Put values in, read them back with a default, show a message once with pop, and learn the two traps: " +
    "a list changed in place, and a value that is not JSON.",
  sections: [
    {
      heading: "Writing and reading a value",
      paragraphs: [
        "In a Django view the session behaves like a Python dict: you assign to a key and read it back on a later " +
          "request. Here the same operations are methods: `set(key, value)` stores, `get(key, default)` reads.",
        "Reading a key that was never stored is where the two styles part. Django's `request.session[key]` raises " +
          "`KeyError`; its `get(key)` gives `None`, or the default you pass. Our `get(key)` without a default gives " +
          "`undefined`, and `get(key, fallback)` gives the fallback. There is no square-bracket form, so a read can " +
          "never throw: pass the default you want rather than checking first.",
        "Writing marks the session modified, and a modified session is saved when the response goes out. Reading " +
          "marks it accessed only, so a page that just reads stores nothing and sends no new cookie.",
      ],
      code: {
        django: `request.session["color"] = "blue"
request.session["color"]          # "blue"
request.session.get("size")       # None
request.session.get("size", "M")  # "M"
request.session["size"]           # KeyError`,
        ours: `request.session.set("color", "blue");
request.session.get("color");       // "blue"
request.session.get("size");        // undefined
request.session.get("size", "M");   // "M"
// no [] form: a read never throws`,
      },
      tryIt: [
        { href: "/session/set/?key=color&value=blue", label: "Store color = blue" },
        { href: "/session/get/?key=color", label: "Read color back" },
        { href: "/session/get/?key=size", label: "Read a key that is not there" },
      ],
    },
    {
      heading: "The visit counter",
      paragraphs: [
        "A counter is the smallest useful session: read the number with a default of 0, add one, store it back. " +
          "The first visit reads the default, so it shows 1; each later visit finds the stored number.",
        "Because the value is read and then written back, two requests of the same visitor at the same moment could " +
          "both read 4 and both store 5. The demo's counter route takes a per-session lock for that reason; lesson 5 " +
          "comes back to it.",
      ],
      code: {
        django: `visits = request.session.get("visits", 0) + 1
request.session["visits"] = visits`,
        ours: `const visits = request.session.get("visits", 0) + 1;
request.session.set("visits", visits);`,
      },
      tryIt: [{ href: "/counter/", label: "Open the counter and reload it" }],
    },
    {
      heading: "A message shown once: pop",
      paragraphs: [
        "`pop(key, default)` reads a value and removes it in the same step. That is the usual way to carry a " +
          "one-time message across a redirect: the action stores it, the next page pops it, and a reload finds " +
          "nothing left to show.",
        "Give `pop` a default (here `null`) unless the key is certain to be there: without one, a missing key throws " +
          "`KeyError`, exactly as Django's `pop(key)` does. Popping a key that is absent changes nothing, so it does " +
          "not cause a save either.",
      ],
      code: {
        django: `# checkout
request.session["flash"] = "Thank you!"
# the next page
flash = request.session.pop("flash", None)`,
        ours: `// checkout
request.session.set("flash", "Thank you!");
// the next page
const flash = request.session.pop("flash", null);`,
      },
      tryIt: [{ href: "/cart/", label: "Check out the cart, then reload the page" }],
    },
    {
      heading: "setdefault, delete, keys and items",
      paragraphs: [
        "`setdefault(key, value)` returns the stored value when the key exists and leaves it alone; only when the " +
          "key is missing does it store `value` (and mark the session modified) and return it.",
        "`delete(key)` is Django's `del request.session[key]`: it removes the key, and throws `KeyError` when the key " +
          "is not there. When you do not know whether it is there, `pop(key, null)` removes it without the risk.",
        "`keys()` and `items()` list what is stored, in the order the keys were first written. `has(key)` is Django's " +
          "`key in request.session`.",
      ],
      code: {
        django: `cart = request.session.setdefault("cart", [])
del request.session["color"]        # KeyError if missing
list(request.session.keys())
"cart" in request.session`,
        ours: `const cart = request.session.setdefault("cart", []);
request.session.delete("color");      // KeyError if missing
request.session.keys();
request.session.has("cart");`,
      },
      tryIt: [
        { href: "/session/get/?key=color", label: "Delete color with the page's button" },
        { href: "/session/", label: "See every key as JSON" },
      ],
    },
    {
      heading: "Changing a stored list in place",
      paragraphs: [
        "Django decides whether to save by a flag: assigning a key sets `modified`, and nothing else does. If you " +
          "fetch the cart list and append to it, the list in memory changes but no key was assigned, so Django " +
          "throws the change away at the end of the request. The tutorials give two cures: assign the list back, or " +
          "set `request.session.modified = True` yourself.",
        "This framework notices such changes. The first time `get`, `setdefault`, `values` or `items` hands out an " +
          "object or array, it remembers what it looked like; at the end of the request it compares, and a changed " +
          "value is saved like a `set`. The setting `SESSION_DETECT_MUTATIONS` (on by default) controls this; turned " +
          "off, you are back to Django's rule and must set `modified` or assign the value back.",
        'Assigning a new list (`set("cart", [...cart, item])`) works under both rules, so it is still the clearest ' +
          "thing to write.",
      ],
      code: {
        django: `request.session["cart"].append("pen")   # not saved
request.session.modified = True          # now it is
# or: request.session["cart"] = cart + ["pen"]`,
        ours: `request.session.get("cart", []).push("pen"); // saved (SESSION_DETECT_MUTATIONS)
request.session.modified = true;               // needed only with it off
// or: request.session.set("cart", [...cart, "pen"])`,
      },
      tryIt: [
        { href: "/cart/", label: "Use the cart's Add in place button" },
        { href: "/settings/", label: "See SESSION_DETECT_MUTATIONS" },
      ],
    },
    {
      heading: "Only JSON goes in",
      paragraphs: [
        "Both frameworks store the session as JSON, so every value must be a string, number, boolean, `null`, or a " +
          "list or object of those. A date is none of these. Django fails the save with `TypeError`; here the save " +
          "fails with `NotSerializableError`, the response is a 500 and nothing is stored. `Map`, `Set`, `undefined` " +
          "and `NaN` are refused the same way, where plain `JSON.stringify` would quietly drop or change them.",
        "Store the date as an ISO string (`new Date().toISOString()`) or as a number of milliseconds, and turn it " +
          "back into a `Date` when you read it.",
      ],
      code: {
        django: `request.session["seen"] = timezone.now()            # TypeError on save
request.session["seen"] = timezone.now().isoformat()  # fine`,
        ours: `// set("seen", new Date()) does not compile; forced, the save fails
request.session.set("seen", new Date().toISOString()); // fine`,
      },
    },
    {
      heading: "Small, and free of secrets",
      paragraphs: [
        "Every request that touches the session reads all of it, and every save writes all of it. Keep identifiers " +
          "(a user id, the ids in a cart) and look the rest up; do not copy whole records in.",
        "Never store a password, a card number or an API token. The stored data is signed, not encrypted: anyone " +
          "who can read the store can read it, and with the signed-cookie engine the visitor can read it in the " +
          "browser. The setting `SESSION_MAX_BYTES` can refuse a session that grows past a limit (a 413).",
      ],
      tryIt: [{ href: "/settings/", label: "See SESSION_MAX_BYTES" }],
    },
  ],
  quiz: [
    {
      id: "dict-1",
      level: 1,
      prompt: "A fresh session runs the code below. What does `keys()` return?",
      code: `request.session.set("color", "blue");
request.session.set("size", "M");
request.session.keys();`,
      choices: [
        { id: "a", text: '`["color", "size"]`' },
        {
          id: "b",
          text: '`["size", "color"]`',
          whyPicked:
            "Some maps list the newest entry first. The session keeps the order in which keys were first written.",
        },
        {
          id: "c",
          text: '`["blue", "M"]`',
          whyPicked: "Those are the values, which `values()` returns; `keys()` gives the names you stored them under.",
        },
        {
          id: "d",
          text: "`[]`, because nothing is saved until the response",
          whyPicked:
            "Saving to the store waits for the response, but the session's data in memory changes at once: a read later in the same request sees it.",
        },
      ],
      answer: "a",
      solution: [
        "`set` stores the value in the session's data straight away, in memory.",
        "Saving to the store happens later, when the response is sent; reads in the same request do not wait for it.",
        "`keys()` lists the stored names in the order they were first written: color, then size.",
      ],
      hint: "Two keys were written, in a known order.",
      checkedBy: "dict-keys-order",
    },
    {
      id: "dict-2",
      level: 1,
      prompt: 'The key `size` was never stored. What does `request.session.get("size")` give in this framework?',
      choices: [
        {
          id: "a",
          text: "It throws `KeyError`",
          whyPicked:
            "That is Django's `request.session[\"size\"]`. Our `get` is the counterpart of Django's `get`, which never raises.",
        },
        { id: "b", text: "`undefined`" },
        {
          id: "c",
          text: "`null`",
          whyPicked:
            "Django's `get` gives `None`, which is easy to translate as `null`; in TypeScript a missing value without a default is `undefined`.",
        },
        {
          id: "d",
          text: 'The empty string `""`',
          whyPicked: "No default is made up for you: without one, you get nothing at all.",
        },
      ],
      answer: "b",
      solution: [
        "`get(key)` without a default looks the key up and, when it is missing, gives back the absent default: `undefined`.",
        "Django's `get(key)` gives `None` in the same case, and only its square-bracket read raises `KeyError`.",
        'To get something else for a missing key, pass it: `get("size", "M")`.',
      ],
      hint: "Think of Django's `get`, not its square brackets, and of what JavaScript calls a missing value.",
      checkedBy: "dict-get-missing",
    },
    {
      id: "dict-3",
      level: 1,
      prompt: "A page runs the counter code below. A new visitor opens it three times. What does the third visit show?",
      code: `const visits = request.session.get("visits", 0) + 1;
request.session.set("visits", visits);
return { visits };`,
      choices: [
        {
          id: "a",
          text: "2",
          whyPicked:
            "Counting from 0 on the first visit is the usual slip: the first visit already adds one to the default.",
        },
        {
          id: "b",
          text: "`NaN`",
          whyPicked:
            "Adding 1 to a missing value would give `NaN`, but the default 0 is used when `visits` is missing.",
        },
        {
          id: "c",
          text: "1",
          whyPicked:
            "That would be so if nothing were saved between visits; but `set` marks the session modified, so each visit's number is stored.",
        },
        { id: "d", text: "3" },
      ],
      answer: "d",
      solution: [
        "Visit 1: `visits` is missing, the default 0 is read, 1 is stored and shown.",
        "Visit 2: 1 is read, 2 is stored and shown.",
        "Visit 3: 2 is read, 3 is stored and shown.",
      ],
      hint: "Follow the stored number visit by visit, starting from the default.",
      checkedBy: "dict-counter",
    },
    {
      id: "dict-4",
      level: 2,
      prompt:
        'Checkout stores a message with `set("flash", "Thank you!")`. The cart page reads it with ' +
        '`pop("flash", null)`. The visitor lands on the cart page and then reloads it. What does the reload get?',
      choices: [
        {
          id: "a",
          text: '`"Thank you!"` again',
          whyPicked: "That is what `get` would do. `pop` removes the key while reading it, and the removal is saved.",
        },
        {
          id: "b",
          text: "It throws `KeyError`",
          whyPicked: "`pop` throws only when it has no default; here `null` is given.",
        },
        { id: "c", text: "`null`" },
        {
          id: "d",
          text: "`undefined`",
          whyPicked: "A missing key gives `pop`'s default, and the default here is `null`.",
        },
      ],
      answer: "c",
      solution: [
        "The first cart page pops `flash`: it gets the message and the key is removed, which marks the session modified.",
        "That change is saved with the response, so the store no longer has `flash`.",
        "The reload pops again, finds nothing and gets the default, `null`.",
      ],
      hint: "What does `pop` do to the key besides reading it, and what is the default?",
      checkedBy: "dict-pop-once",
    },
    {
      id: "dict-5",
      level: 2,
      prompt: 'The session already holds `cart: ["pen"]`. What does this return, and what is stored afterwards?',
      code: `request.session.setdefault("cart", []);`,
      choices: [
        {
          id: "a",
          text: "It returns `[]` and the cart is now empty",
          whyPicked: "That is `set`. `setdefault` only stores when the key is missing.",
        },
        { id: "b", text: '`["pen"]`, and the cart is unchanged' },
        {
          id: "c",
          text: '`["pen"]`, and the session is marked modified, so it is saved again',
          whyPicked:
            "Nothing was written: an existing key is returned as it is, and the session is not marked modified.",
        },
        {
          id: "d",
          text: "It throws, because `cart` already exists",
          whyPicked: "An existing key is exactly the case `setdefault` is made for: it returns it.",
        },
      ],
      answer: "b",
      solution: [
        "`setdefault` looks the key up first.",
        '`cart` is there, so its stored value `["pen"]` is returned and nothing is written.',
        "Nothing written means `modified` stays false; only a missing key would be stored and mark it.",
      ],
      hint: "The value given to `setdefault` is used only in one case.",
      checkedBy: "dict-setdefault-existing",
    },
    {
      id: "dict-6",
      level: 2,
      prompt: 'The session has no `color` key. What does `request.session.delete("color")` do?',
      choices: [
        { id: "a", text: "It throws `KeyError`" },
        {
          id: "b",
          text: "Nothing: deleting a missing key is a no-op",
          whyPicked:
            'Some stores ignore it, but this is Django\'s `del session[key]`, which refuses a missing key. Use `pop("color", null)` for a no-op.',
        },
        {
          id: "c",
          text: "It deletes the whole session",
          whyPicked: "That is `flush()`. `delete` concerns one key.",
        },
        {
          id: "d",
          text: "It stores `color` as `undefined`",
          whyPicked: "`undefined` is not JSON and is never stored; `delete` removes, it does not write.",
        },
      ],
      answer: "a",
      solution: [
        "`delete(key)` mirrors Django's `del request.session[key]`.",
        "Django raises `KeyError` for a missing key, and so does this framework (the error is exported as `KeyError`).",
        "The session is not marked modified when that happens. To remove a key that may be absent, write `pop(key, null)`.",
      ],
      hint: "Which Python statement does `delete` stand for, and what does it do with a missing key?",
      checkedBy: "dict-delete-missing",
    },
    {
      id: "dict-7",
      level: 2,
      prompt: "After login, what belongs in the session?",
      choices: [
        {
          id: "a",
          text: "An API token for the user's other services",
          whyPicked:
            "Secrets do not belong in a readable store; keep them on the server, encrypted, and store only an id.",
        },
        {
          id: "b",
          text: "The user's whole record, so no page needs the database",
          whyPicked:
            "It saves a query, but every request then reads and writes the whole copy, and the copy goes stale when the record changes.",
        },
        {
          id: "c",
          text: "The password, so the session can log in again by itself",
          whyPicked:
            "Session data is signed, not encrypted: anyone who reads the store (or, with signed cookies, the visitor) can read it. Never store a password.",
        },
        { id: "d", text: "The user's id; the rest is looked up from the database when needed" },
      ],
      answer: "d",
      solution: [
        "The session is read on every request that touches it and written in full on every save, so small is fast.",
        "Its data is signed against tampering but not hidden: keep secrets out.",
        "An identifier is small, holds no secret and never goes stale: look the rest up with it (Django's login stores just the user's id, a backend name and a hash).",
      ],
      hint: "Small, not secret, not a copy that can go stale.",
    },
    {
      id: "dict-8",
      level: 3,
      prompt:
        'The session holds `cart: ["pen"]`. A request runs the code below, with this framework\'s default settings. ' +
        "What does the next request find in `cart`?",
      code: `request.session.get("cart", []).push("ink");`,
      choices: [
        {
          id: "a",
          text: '`["pen"]`: no key was assigned, so nothing was saved',
          whyPicked:
            "That is Django's rule. Here SESSION_DETECT_MUTATIONS is on by default: the change made in place is noticed and saved.",
        },
        { id: "b", text: '`["pen", "ink"]`' },
        {
          id: "c",
          text: '`["ink"]`: the default `[]` was pushed to and stored',
          whyPicked: "The default is used only when `cart` is missing; here `get` returned the stored list.",
        },
        {
          id: "d",
          text: "Nothing: changing a value in place deletes the key",
          whyPicked: "No rule deletes a key for this; the question is only whether the change is saved.",
        },
      ],
      answer: "b",
      solution: [
        "`get` hands out the stored list itself, and `push` changes it in memory.",
        "Django would not save it: no key was assigned, so `modified` stays false (you would write `modified = True` or assign the list back).",
        'This framework remembered the list as it was handed out, sees at the end of the request that it changed, and saves it: the next request finds `["pen", "ink"]`.',
      ],
      hint: "The answer depends on SESSION_DETECT_MUTATIONS, and on its default here.",
      checkedBy: "dict-inplace-detected",
    },
    {
      id: "dict-9",
      level: 3,
      prompt:
        'The same in-place `push` of `"ink"` onto `["pen"]`, on an app started with ' +
        '`SESSION_DETECT_MUTATIONS=false`. Which handler keeps `"ink"`?',
      code: `// A
request.session.get("cart", []).push("ink");
// B
request.session.get("cart", []).push("ink");
request.session.modified = true;`,
      choices: [
        {
          id: "a",
          text: "Both A and B",
          whyPicked:
            "With detection off, nothing watches the list: A changes memory only and nothing marks the session for saving.",
        },
        {
          id: "b",
          text: "Neither: with detection off, in-place changes cannot be saved",
          whyPicked:
            "Saving is decided by the `modified` flag; once B sets it, the whole session, the changed list included, is written.",
        },
        { id: "c", text: "Only B" },
        {
          id: "d",
          text: "Only A",
          whyPicked: "Setting `modified` can only add a save, never prevent one.",
        },
      ],
      answer: "c",
      solution: [
        "With `SESSION_DETECT_MUTATIONS=false` the framework follows Django's rule: only a write through the API, or `modified = true`, marks the session for saving.",
        "A changes the list in memory and marks nothing, so the change is dropped at the end of the request.",
        "B sets `modified`, so the session is saved with the changed list. Assigning a new list with `set` would work too.",
      ],
      hint: "With detection off, what decides whether a request saves?",
      checkedBy: "dict-inplace-django-rule",
    },
    {
      id: "dict-10",
      level: 3,
      prompt:
        "A handler stores a date object (forced past the type checker) and returns 200. What happens when the response goes out?",
      code: `request.session.set("seen", new Date() as unknown as string);`,
      choices: [
        {
          id: "a",
          text: "The date is stored as an ISO string, as `JSON.stringify` would write it",
          whyPicked:
            "`JSON.stringify` would turn it into a string silently; the session refuses it instead, as Django refuses a datetime.",
        },
        {
          id: "b",
          text: "The key is dropped and the rest of the session is saved",
          whyPicked:
            "That is what `JSON.stringify` does with `undefined`; here nothing is dropped quietly, the whole save fails.",
        },
        {
          id: "c",
          text: "The save fails with `NotSerializableError`: a 500, and nothing is stored",
        },
        {
          id: "d",
          text: "The response is 200 and the session is saved as an empty object",
          whyPicked: "A save that cannot encode its data writes nothing at all, and the error reaches the response.",
        },
      ],
      answer: "c",
      solution: [
        "Saving encodes the session as JSON, and a `Date` is not JSON.",
        "Django fails the save with `TypeError`; this framework fails it with `NotSerializableError` (a kind of `TypeError`).",
        "The error replaces the 200 with a 500 and nothing reaches the store. Store `new Date().toISOString()` instead.",
      ],
      hint: "What kind of values can a JSON document hold, and does the session quietly convert the others?",
      checkedBy: "dict-date-not-json",
    },
  ],
} satisfies Lesson;
