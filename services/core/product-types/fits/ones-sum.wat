;; The byte-lane sums of the FITS checksum (ones-sum.ts explains the arithmetic), four words at a
;; time with WebAssembly SIMD. The words are read where the copy put them: the memory is the copy's
;; own shared read buffer, imported, so nothing is copied to be summed.
;;
;; scripts/generate-wasm.mjs compiles this file into ones-sum-wasm.ts; edit here, then run it.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; lanes(p, n) → (Σ w & 0x00ff00ff, Σ (w >> 8) & 0x00ff00ff) over the n little-endian 32-bit words
  ;; at byte offset p, each exact as an f64 while n < 2^29.
  (func (export "lanes") (param $p i32) (param $n i32) (result f64 f64)
    (local $end i32) (local $stop i32)
    (local $be v128) (local $bo v128) (local $e v128) (local $o v128) (local $w v128) (local $m v128)
    (local $se i64) (local $so i64) (local $x i32)
    (local.set $m (v128.const i32x4 0x00ff00ff 0x00ff00ff 0x00ff00ff 0x00ff00ff))
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; 256 vectors per block: a 16-bit half of an i32 lane gains at most 255 per vector, so it
        ;; holds at most 65,280 and never carries into its neighbour before the block is widened.
        (local.set $stop (i32.add (local.get $p) (i32.const 4096)))
        (if (i32.gt_u (local.get $stop) (local.get $end)) (then (local.set $stop (local.get $end))))
        (local.set $be (v128.const i32x4 0 0 0 0))
        (local.set $bo (v128.const i32x4 0 0 0 0))
        (loop $vectors
          (local.set $w (v128.load (local.get $p)))
          (local.set $be (i32x4.add (local.get $be) (v128.and (local.get $w) (local.get $m))))
          (local.set $bo (i32x4.add (local.get $bo) (v128.and (i32x4.shr_u (local.get $w) (i32.const 8)) (local.get $m))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $vectors (i32.lt_u (local.get $p) (local.get $stop))))
        ;; Widen the block's lanes into 64-bit totals.
        (local.set $e (i64x2.add (local.get $e) (i64x2.extend_low_i32x4_u (local.get $be))))
        (local.set $e (i64x2.add (local.get $e) (i64x2.extend_high_i32x4_u (local.get $be))))
        (local.set $o (i64x2.add (local.get $o) (i64x2.extend_low_i32x4_u (local.get $bo))))
        (local.set $o (i64x2.add (local.get $o) (i64x2.extend_high_i32x4_u (local.get $bo))))
        (br $blocks)))
    (local.set $se (i64.add (i64x2.extract_lane 0 (local.get $e)) (i64x2.extract_lane 1 (local.get $e))))
    (local.set $so (i64.add (i64x2.extract_lane 0 (local.get $o)) (i64x2.extract_lane 1 (local.get $o))))
    ;; The last n mod 4 words one at a time.
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (i32.load (local.get $p)))
        (local.set $se (i64.add (local.get $se) (i64.extend_i32_u (i32.and (local.get $x) (i32.const 0x00ff00ff)))))
        (local.set $so (i64.add (local.get $so) (i64.extend_i32_u (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 0x00ff00ff)))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $tail)))
    (f64.convert_i64_u (local.get $se))
    (f64.convert_i64_u (local.get $so))))
