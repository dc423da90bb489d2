// Addressing shared by every kernel. The JavaScript side speaks in float32 element offsets (engine.ts);
// WebAssembly loads and stores take byte addresses, hence the shift by two.

/** Byte address of the float32 element at offset `off`. */
// @ts-ignore: decorator
@inline export function at(off: i32): usize {
  return (<usize>off) << 2;
}

/** First byte above the module's static data: the JavaScript bump allocator starts here. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Loads the first `count` (1 to 3) floats at `p` into the low lanes of a vector, zeros in the rest.
 * Row tails use this so that they run the same vector code as the body and never touch memory past
 * the last element (which may be the end of linear memory).
 */
// @ts-ignore: decorator
@inline export function loadTail(p: usize, count: i32): v128 {
  let v = f32x4.splat(0);
  v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (count > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (count > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the low `count` (1 to 3) lanes of `v` at `p`. */
// @ts-ignore: decorator
@inline export function storeTail(p: usize, v: v128, count: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (count > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (count > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** `count` (1 to 4) floats at `p`: a full vector load when count is 4 (folded away when it is a constant). */
// @ts-ignore: decorator
@inline export function loadN(p: usize, count: i32): v128 {
  return count == 4 ? v128.load(p) : loadTail(p, count);
}

/** Stores the low `count` (1 to 4) lanes of `v` at `p`. */
// @ts-ignore: decorator
@inline export function storeN(p: usize, v: v128, count: i32): void {
  if (count == 4) v128.store(p, v);
  else storeTail(p, v, count);
}
