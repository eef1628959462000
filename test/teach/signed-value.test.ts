/** Taking Django's signed values apart, checked against values Django itself made. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { STORED_DATA_SALT } from "fastify-django-sessions";
import { SIGNED_COOKIE_SALT } from "fastify-django-sessions";
import { explainSignedValue } from "../../src/teach/signed-value.js";

interface Vectors {
  secret_key: string;
  vectors: { timestamp: number; data: unknown; db_session_data: string; signed_cookie_value: string }[];
}
const django = JSON.parse(readFileSync(new URL("../fixtures/django-vectors.json", import.meta.url), "utf8")) as Vectors;

describe("explainSignedValue", () => {
  test("Django's stored data and cookies: every step, the data and the time they were signed", () => {
    const secrets = { SECRET_KEY: django.secret_key, SECRET_KEY_FALLBACKS: [] };
    for (const vector of django.vectors) {
      for (const [value, salt] of [
        [vector.db_session_data, STORED_DATA_SALT],
        [vector.signed_cookie_value, SIGNED_COOKIE_SALT],
      ] as const) {
        const steps = explainSignedValue(value, salt, secrets);
        assert.equal(steps.problem, null, value);
        assert.equal(steps.verifiedWith, "SECRET_KEY");
        assert.equal(steps.timestampSeconds, vector.timestamp);
        assert.equal(steps.signedAt, new Date(vector.timestamp * 1000).toISOString());
        assert.equal(steps.compressed, value.startsWith("."));
        assert.equal(`${steps.payload}:${steps.timestamp}:${steps.signature}`, value);
        assert.deepEqual(JSON.parse(steps.json!), vector.data);
      }
    }
    assert.ok(
      django.vectors.some((v) => v.db_session_data.startsWith(".")),
      "a compressed value is among them",
    );
  });

  test("a fallback key is named; a tampered value or another salt does not verify", () => {
    const value = django.vectors[1]!.db_session_data;
    assert.equal(
      explainSignedValue(value, STORED_DATA_SALT, {
        SECRET_KEY: "new",
        SECRET_KEY_FALLBACKS: ["old", django.secret_key],
      }).verifiedWith,
      "SECRET_KEY_FALLBACKS[1]",
    );
    const secrets = { SECRET_KEY: django.secret_key, SECRET_KEY_FALLBACKS: [] };
    const tampered = explainSignedValue(value.replace("eyJhIjoiYiJ9", "eyJhIjoiYyJ9"), STORED_DATA_SALT, secrets);
    assert.equal(tampered.verifiedWith, null);
    assert.match(tampered.problem!, /does not verify/);
    assert.equal(tampered.json, '{"a":"c"}', "the payload is still shown, as the attacker wrote it");
    assert.equal(explainSignedValue(value, SIGNED_COOKIE_SALT, secrets).verifiedWith, null);
    assert.match(explainSignedValue("no separators", STORED_DATA_SALT, secrets).problem!, /two ":"/);
  });
});
