/**
 * The numpy generator ports against numpy itself: the raw outputs stored in
 * ../shared/goldens/wirings.json, well-known MT19937 test vectors, and a handful of values taken
 * from numpy 2.4.6 (noted where used).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { RandomState } from "../src/wirings/mt19937.js";
import { defaultRng, PCG64, SeedSequence } from "../src/wirings/pcg64.js";

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const goldenFile = path.resolve(projectRoot, "../shared", "goldens/wirings.json");
const haveGolden = fs.existsSync(goldenFile);
const skipGolden = haveGolden ? false : `reference file ${goldenFile} not found (../shared is absent)`;
const probe = haveGolden ? JSON.parse(fs.readFileSync(goldenFile, "utf8")).rng_probe : null;

describe("RandomState (numpy legacy MT19937)", () => {
  test("first raw outputs for seed 22222 equal numpy's", { skip: skipGolden }, () => {
    const rs = new RandomState(22222);
    const got = Array.from({ length: probe.RandomState_22222_uint32_first16.length }, () => rs.randomUint32());
    assert.deepEqual(got, probe.RandomState_22222_uint32_first16);
  });

  test("choice([-1, 1]) sequence for seed 22222 equals numpy's", { skip: skipGolden }, () => {
    const rs = new RandomState(22222);
    const got = probe.RandomState_22222_choice_pm1_x16.map(() => rs.choice([-1, 1]));
    assert.deepEqual(got, probe.RandomState_22222_choice_pm1_x16);
  });

  test("permutation(10) for seed 22222 equals numpy's", { skip: skipGolden }, () => {
    assert.deepEqual(new RandomState(22222).permutation(10), probe.RandomState_22222_permutation10);
  });

  test("standard MT19937 vectors: seed 5489 starts 3499211612, and its 10000th output is 4123659995", () => {
    const rs = new RandomState(5489);
    assert.equal(rs.randomUint32(), 3499211612);
    assert.equal(rs.randomUint32(), 581869302);
    for (let i = 3; i < 10000; i++) rs.randomUint32();
    assert.equal(rs.randomUint32(), 4123659995);
  });

  test("random_sample() for seed 0 equals numpy's 0.5488135039273248, 0.7151893663724195", () => {
    const rs = new RandomState(0);
    assert.equal(rs.randomSample(), 0.5488135039273248);
    assert.equal(rs.randomSample(), 0.7151893663724195);
  });

  test("choice of an int and without replacement (values from numpy 2.4.6, seed 1)", () => {
    const rs = new RandomState(1);
    assert.deepEqual([0, 1, 2, 3].map(() => rs.choice(1000)), [37, 235, 908, 72]);
    assert.deepEqual(rs.choice(["a", "b", "c", "d", "e", "f", "g"], 3, false), ["c", "f", "g"]);
  });

  test("choice(a, k, replace=false) is the first k of a permutation of the same stream", () => {
    const a = new RandomState(99);
    const b = new RandomState(99);
    const perm = b.permutation(12);
    assert.deepEqual(a.choice(12, 5, false), perm.slice(0, 5));
    assert.equal(a.randomUint32(), b.randomUint32(), "both consumed the same number of draws");
  });

  test("bounded draws stay in range and a population of one consumes nothing", () => {
    const a = new RandomState(3);
    for (let max = 0; max < 300; max++) {
      const v = a.boundedInclusive(max);
      assert.ok(v >= 0 && v <= max, `draw ${v} outside [0, ${max}]`);
    }
    const c = new RandomState(4);
    assert.equal(c.choice([42]), 42);
    assert.equal(c.randomUint32(), new RandomState(4).randomUint32());
  });

  test("invalid seeds and arguments are rejected with the value in the message", () => {
    assert.throws(() => new RandomState(-1), /between 0 and 2\*\*32 - 1, got -1/);
    assert.throws(() => new RandomState(2 ** 32), /got 4294967296/);
    assert.throws(() => new RandomState(1.5), /got 1.5/);
    assert.throws(() => new RandomState(1).choice([1, 2], 3, false), /larger sample \(3\) than the population \(2\)/);
    assert.throws(() => new RandomState(1).choice([]), /cannot be empty/);
  });
});

describe("default_rng (numpy SeedSequence + PCG64 + Generator)", () => {
  test("random_raw() for seed 1111 equals numpy's", { skip: skipGolden }, () => {
    const bg = new PCG64(1111);
    const got = probe.default_rng_1111_random_raw_uint64_first8.map(() => bg.next64().toString());
    assert.deepEqual(got, probe.default_rng_1111_random_raw_uint64_first8);
  });

  test("choice([-1, 1, 1]) sequence for seed 1111 equals numpy's", { skip: skipGolden }, () => {
    const g = defaultRng(1111);
    const got = probe.default_rng_1111_choice_m1_1_1_x16.map(() => g.choice([-1, 1, 1]));
    assert.deepEqual(got, probe.default_rng_1111_choice_m1_1_1_x16);
  });

  test("a seed wider than 32 bits is hashed word by word (numpy 2.4.6: default_rng(2**40 + 3))", () => {
    const bg = new PCG64(2 ** 40 + 3);
    assert.equal(bg.next64(), 14271435802380633900n);
    assert.equal(bg.next64(), 18370326226487632705n);
    assert.equal(new PCG64(2n ** 40n + 3n).next64(), 14271435802380633900n, "BigInt seeds give the same stream");
  });

  test("next32 serves the low then the high half of one 64-bit output", () => {
    const a = new PCG64(5);
    const b = new PCG64(5);
    for (let i = 0; i < 20; i++) {
      const x = b.next64();
      assert.equal(a.next32(), Number(x & 0xffffffffn));
      assert.equal(a.next32(), Number(x >> 32n));
    }
  });

  test("Lemire bounded draws equal a BigInt reimplementation on the same raw stream", () => {
    const g = defaultRng(77);
    const raw = new PCG64(77);
    for (const max of [1, 2, 6, 99, 1000, 65535, 65536, 123456789, 0xfffffffe]) {
      for (let k = 0; k < 50; k++) {
        const excl = BigInt(max) + 1n;
        let m = BigInt(raw.next32()) * excl;
        if ((m & 0xffffffffn) < excl) {
          const threshold = (0xffffffffn - BigInt(max)) % excl;
          while ((m & 0xffffffffn) < threshold) m = BigInt(raw.next32()) * excl;
        }
        assert.equal(g.boundedLemire(max), Number(m >> 32n), `max ${max}, draw ${k}`);
      }
    }
  });

  test("integers over a 40-bit range use 64-bit draws (numpy 2.4.6, seed 0)", () => {
    const g = defaultRng(0);
    assert.deepEqual([0, 1, 2].map(() => g.integers(0, 2 ** 40)), [700346781657, 296633628802, 45050865998]);
  });

  test("permutation and random() (numpy 2.4.6, seed 3)", () => {
    assert.deepEqual(defaultRng(3).permutation(10), [9, 6, 0, 2, 1, 4, 7, 5, 3, 8]);
    const g = defaultRng(3);
    assert.equal(g.random(), 0.08564916714362436);
    assert.equal(g.random(), 0.2368105065960997);
  });

  test("choice without replacement: Floyd and tail-shuffle paths (numpy 2.4.6, seed 7)", () => {
    assert.deepEqual(defaultRng(7).choice(20000, 5, false), [12500, 13682, 18894, 11565, 17943]);
    const tail = defaultRng(7).choice(20000, 401, false);
    assert.deepEqual(tail.slice(0, 8), [12600, 10553, 16809, 18394, 11175, 6088, 8935, 413]);
    assert.equal(new Set(tail).size, 401, "distinct");
  });

  test("choice without replacement returns distinct in-range elements of the array", () => {
    const g = defaultRng(11);
    const pool = Array.from({ length: 30 }, (_, i) => `n${i}`);
    for (let k = 0; k <= 30; k++) {
      const got = g.choice(pool, k, false);
      assert.equal(got.length, k);
      assert.equal(new Set(got).size, k);
      for (const x of got) assert.ok(pool.includes(x));
    }
  });

  test("SeedSequence pools differ by seed and generate_state is deterministic", () => {
    assert.deepEqual(new SeedSequence(1111).generateState32(8), new SeedSequence(1111).generateState32(8));
    assert.notDeepEqual(new SeedSequence(1111).pool, new SeedSequence(1112).pool);
    assert.throws(() => new SeedSequence(-3), /non-negative integer, got -3/);
  });
});
