/** /learn/ over HTTP (fastify.inject): grading, redirects, progress in the session, errors. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LESSONS } from "../../src/learn/lessons/index.js";
import { appFixture, noticeOf, visitor } from "../helpers.js";

type Fixture = Awaited<ReturnType<typeof appFixture>>;

const lesson = LESSONS[0]!;
const [q1, q2] = lesson.quiz as [(typeof lesson.quiz)[number], (typeof lesson.quiz)[number]];
const wrong = q1.choices.find((c) => c.id !== q1.answer)!;
const url = `/learn/${lesson.slug}/`;

async function storedData(f: Fixture, key: string | undefined) {
  assert.ok(key, "the visitor has a session key");
  const session = f.engine.open(key);
  await session.load();
  return Object.fromEntries(session.items());
}

/** The `<article>` of one question on a lesson page. */
function questionHtml(html: string, id: string): string {
  const match = new RegExp(`<article class="question" id="${id}"[\\s\\S]*?</article>`).exec(html);
  assert.ok(match, `question ${id} on the page`);
  return match[0];
}

async function setup() {
  const f = await appFixture();
  return { f, v: visitor(f.app) };
}

describe("/learn/", () => {
  test("the index lists every lesson; a first visit stores nothing and sends no session cookie", async () => {
    const { f } = await setup();
    const response = await f.app.inject("/learn/");
    assert.equal(response.statusCode, 200);
    for (const l of LESSONS) assert.ok(response.body.includes(`href="/learn/${l.slug}/"`), l.slug);
    assert.match(response.body, /id="no-progress"/);
    assert.match(response.body, /<a href="\/learn\/" id="nav-learn" aria-current="page">Learn<\/a>/);
    assert.ok(![response.headers["set-cookie"]].flat().some((c) => c?.startsWith("sessionid=")));
    assert.equal((await f.db.selectFrom("sessions").selectAll().execute()).length, 0);
    await f.app.close();
  });

  test("every lesson page shows its sections, try-it links and ten question forms with the CSRF token", async () => {
    const { f } = await setup();
    for (const l of LESSONS) {
      const page = await f.app.inject(`/learn/${l.slug}/`);
      assert.equal(page.statusCode, 200, l.slug);
      assert.match(page.body, /id="nav-learn" aria-current="page"/);
      for (const section of l.sections) {
        for (const link of section.tryIt ?? [])
          assert.ok(page.body.includes(`href="${link.href.replace(/&/g, "&amp;")}"`), link.href);
      }
      for (const q of l.quiz) {
        const html = questionHtml(page.body, q.id);
        assert.match(html, new RegExp(`<form method="post" action="/learn/${l.slug}/${q.id}/">`));
        assert.match(html, /name="_csrf" value="[^"]+"/);
        assert.equal((html.match(/type="radio" name="choice"/g) ?? []).length, q.choices.length);
        assert.doesNotMatch(html, /class="result"/, "nothing graded before an answer");
      }
    }
    await f.app.close();
  });

  test("a wrong answer: 303 back to the question; the page shows wrong, the hint, the solution, why it was picked", async () => {
    const { f, v } = await setup();
    await v.get(url);
    const posted = await v.post(`${url}${q1.id}/`, { choice: wrong.id });
    assert.equal(posted.statusCode, 303);
    assert.equal(posted.headers.location, `${url}#${q1.id}`);
    assert.deepEqual(await storedData(f, v.sessionKey()), { learn: { [q1.id]: wrong.id } });
    const html = questionHtml((await v.get(url)).body, q1.id);
    assert.match(html, /data-result="wrong"/);
    assert.match(html, /Not this one/);
    assert.match(html, new RegExp(`id="${q1.id}-${wrong.id}" required checked`));
    assert.equal(
      (html.match(/<ol class="solution">[\s\S]*?<\/ol>/)?.[0].match(/<li>/g) ?? []).length,
      q1.solution.length,
    );
    assert.ok(html.includes("Hint:"));
    assert.equal((html.match(/<li( class="picked")?><em>/g) ?? []).length, q1.choices.length - 1);
    assert.match(html, /<li class="picked">/);
    await f.app.close();
  });

  test("a right answer, and the scores add up on the lesson and the index", async () => {
    const { f, v } = await setup();
    await v.get(url);
    await v.post(`${url}${q1.id}/`, { choice: wrong.id });
    await v.post(`${url}${q2.id}/`, { choice: q2.answer });
    const page = (await v.get(url)).body;
    assert.match(questionHtml(page, q2.id), /data-result="right"/);
    assert.match(page, /id="lesson-score" data-score="1\/2\/10"/);
    // Answering again replaces the answer.
    await v.post(`${url}${q1.id}/`, { choice: q1.answer });
    const index = (await v.get("/learn/")).body;
    assert.match(index, /<strong id="total-right">2<\/strong>/);
    assert.match(index, /<strong id="total-answered">2<\/strong>/);
    assert.match(index, /id="lesson-1"[\s\S]*?data-score="2\/2\/10"/);
    assert.match(index, /id="lesson-2"[\s\S]*?data-score="0\/0\/10"/);
    await f.app.close();
  });

  test("an answer without the CSRF token is refused with 403 and changes nothing", async () => {
    const { f, v } = await setup();
    await v.get("/session/set/?key=color&value=blue");
    const refused = await v.post(`${url}${q1.id}/`, { choice: q1.answer }, null);
    assert.equal(refused.statusCode, 403);
    assert.match(refused.body, /CSRF verification failed/);
    const forged = await v.post(`${url}${q1.id}/`, { choice: q1.answer }, "not-the-token");
    assert.equal(forged.statusCode, 403);
    assert.deepEqual(await storedData(f, v.sessionKey()), { color: "blue" });
    await f.app.close();
  });

  test("start over removes only `learn`: the rest of the session stays", async () => {
    const { f, v } = await setup();
    await v.get("/session/set/?key=color&value=blue");
    await v.get("/counter/");
    await v.get(url);
    await v.post(`${url}${q1.id}/`, { choice: q1.answer });
    const keyBefore = v.sessionKey();
    await v.get("/learn/");
    const restarted = await v.post("/learn/start-over/");
    assert.equal(restarted.statusCode, 303);
    assert.equal(restarted.headers.location, "/learn/");
    assert.equal(v.sessionKey(), keyBefore, "same session, same key");
    assert.deepEqual(await storedData(f, v.sessionKey()), { color: "blue", visits: 1 });
    const index = await v.get("/learn/");
    assert.match(noticeOf(index.body) ?? "", /removed from your session/);
    assert.match(index.body, /id="no-progress"/);
    await f.app.close();
  });

  test("after a flush the index says the progress went with everything else", async () => {
    const { f, v } = await setup();
    await v.get(url);
    await v.post(`${url}${q1.id}/`, { choice: q1.answer });
    assert.match((await v.get("/learn/")).body, /<strong id="total-answered">1<\/strong>/);
    await v.post("/session/flush/");
    const index = (await v.get("/learn/")).body;
    assert.match(index, /id="no-progress"/);
    assert.match(index, /a flush, an expired session or a\s+lost cookie takes it away with everything else/);
    await f.app.close();
  });

  test("unknown lesson or question: 404 page; a missing or unknown choice: 400 page; nothing stored", async () => {
    const { f, v } = await setup();
    await v.get(url);
    const other = LESSONS[1]!.quiz[0]!;
    const cases: [string, Record<string, string>, number, RegExp][] = [
      ["/learn/no-such-lesson/what-1/", { choice: "a" }, 404, /no lesson/],
      [`${url}no-such-question/`, { choice: "a" }, 404, /no question/],
      [`${url}${other.id}/`, { choice: other.answer }, 404, /no question/],
      [`${url}${q1.id}/`, { choice: "z" }, 400, /not one of the answers/],
      [`${url}${q1.id}/`, {}, 400, /Pick one of the answers/],
    ];
    for (const [target, fields, status, message] of cases) {
      const response = await v.post(target, fields);
      assert.equal(response.statusCode, status, target);
      assert.match(response.body, /id="error-page"/);
      assert.match(response.body, message);
    }
    const missing = await v.get("/learn/no-such-lesson/");
    assert.equal(missing.statusCode, 404);
    assert.match(missing.body, /Not Found \(404\)/);
    assert.equal(v.sessionKey(), undefined, "nothing was stored");
    await f.app.close();
  });
});
