;; Dense products in WebAssembly SIMD (f64x2): dgemv (y = A·x) and a
;; cache-blocked dgemm (C = A·B). Row-major float64 operands addressed by byte
;; offsets into the imported memory "env" "memory" (shared, so growing it never
;; detaches the views JavaScript holds of it; 2 GiB at most, so
;; every byte offset is a non-negative i32).
;;
;; Summation order (a multiply, then an add: WebAssembly has no fused
;; multiply-add, so the same order in JavaScript gives the same bits):
;; - dgemm: every element of C is the plain sequential sum
;;     s = 0; for p in 0..K-1: s = s + a_p * b_p
;;   the SIMD lanes run across two columns of C, never across one sum;
;; - dgemv: every y[i] is summed in two interleaved halves (even and odd
;;   columns, the two lanes of one accumulator), then s0 + s1, then the last
;;   term when cols is odd.
;;
;; Assembled by scripts/build-wasm.ts into src/kernels/dense.wasm.ts.
(module
  (import "env" "memory" (memory 1 32768 shared))

  ;; dgemm blocking: MR × NR = 4 × 4 register tile (8 f64x2 accumulators),
  ;; KC = 256 (depth of a packed panel), MC = 128 rows of A packed (256 KiB, L2),
  ;; NC = 512 columns of B packed (1 MiB, L2). The workspace holds
  ;; packed B (KC·NC doubles), packed A (MC·KC doubles) and one 4×4 edge tile.
  (global $KC i32 (i32.const 256))
  (global $MC i32 (i32.const 128))
  (global $NC i32 (i32.const 512))
  (global $A_PACK i32 (i32.const 1048576))        ;; byte offset of packed A in the workspace (KC·NC·8)
  (global $TILE i32 (i32.const 1310720))          ;; byte offset of the edge tile (+ MC·KC·8)
  (export "workspaceBytes" (global $WORK))
  (global $WORK i32 (i32.const 1310848))          ;; + 4·4·8

  ;; y[0..rows) = A[rows × cols] · x[0..cols), eight rows at a time (x is
  ;; loaded once per eight rows), then one. Each row's dot product is summed
  ;; in two interleaved halves, the lanes of one f64x2 accumulator:
  ;;   s0 = Σ a[2t]·x[2t], s1 = Σ a[2t+1]·x[2t+1] (t in order), y = (s0 + s1) [+ a[last]·x[last] when cols is odd]
  ;; — no shuffles in the loop, and the order JavaScript and C reproduce
  ;; with two accumulators (bench/workloads/matvec.ts multiplyRows).
  (func $dgemv (export "dgemv") (param $a i32) (param $x i32) (param $y i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $rowBytes i32) (local $pairBytes i32) (local $r i32) (local $odd i32)
    (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local $acc4 v128) (local $acc5 v128) (local $acc6 v128) (local $acc7 v128)
    (local $xv v128) (local $xl f64) (local $yp i32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 3)))
    (local.set $pairBytes (i32.shl (i32.and (local.get $cols) (i32.const -2)) (i32.const 3)))
    (local.set $odd (i32.and (local.get $cols) (i32.const 1)))
    (if (local.get $odd) (then (local.set $xl (f64.load (i32.add (local.get $x) (local.get $pairBytes))))))
    ;; eight rows
    (block $done8
      (loop $rows8
        (br_if $done8 (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $rows)))
        (local.set $r (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $acc0 (v128.const f64x2 0 0))
        (local.set $acc1 (v128.const f64x2 0 0))
        (local.set $acc2 (v128.const f64x2 0 0))
        (local.set $acc3 (v128.const f64x2 0 0))
        (local.set $acc4 (v128.const f64x2 0 0))
        (local.set $acc5 (v128.const f64x2 0 0))
        (local.set $acc6 (v128.const f64x2 0 0))
        (local.set $acc7 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $doneJ
          (loop $cols2
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $pairBytes)))
            (local.set $xv (v128.load (i32.add (local.get $x) (local.get $j))))
            (local.set $yp (i32.add (local.get $r) (local.get $j)))
            (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (local.set $acc2 (f64x2.add (local.get $acc2) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (local.set $acc3 (f64x2.add (local.get $acc3) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (local.set $acc4 (f64x2.add (local.get $acc4) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (local.set $acc5 (f64x2.add (local.get $acc5) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (local.set $acc6 (f64x2.add (local.get $acc6) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $yp (i32.add (local.get $yp) (local.get $rowBytes)))
            (local.set $acc7 (f64x2.add (local.get $acc7) (f64x2.mul (v128.load (local.get $yp)) (local.get $xv))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols2)))
        (local.set $yp (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))))
        (f64.store offset=0 (local.get $yp) (call $finish (local.get $acc0) (i32.add (local.get $r) (i32.mul (i32.const 0) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (f64.store offset=8 (local.get $yp) (call $finish (local.get $acc1) (i32.add (local.get $r) (i32.mul (i32.const 1) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (f64.store offset=16 (local.get $yp) (call $finish (local.get $acc2) (i32.add (local.get $r) (i32.mul (i32.const 2) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (f64.store offset=24 (local.get $yp) (call $finish (local.get $acc3) (i32.add (local.get $r) (i32.mul (i32.const 3) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (f64.store offset=32 (local.get $yp) (call $finish (local.get $acc4) (i32.add (local.get $r) (i32.mul (i32.const 4) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (f64.store offset=40 (local.get $yp) (call $finish (local.get $acc5) (i32.add (local.get $r) (i32.mul (i32.const 5) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (f64.store offset=48 (local.get $yp) (call $finish (local.get $acc6) (i32.add (local.get $r) (i32.mul (i32.const 6) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (f64.store offset=56 (local.get $yp) (call $finish (local.get $acc7) (i32.add (local.get $r) (i32.mul (i32.const 7) (local.get $rowBytes))) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $rows8)))
    ;; one row at a time
    (block $done1
      (loop $rows1
        (br_if $done1 (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $r (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $acc0 (v128.const f64x2 0 0))
        (local.set $j (i32.const 0))
        (block $doneJ1
          (loop $cols1
            (br_if $doneJ1 (i32.ge_u (local.get $j) (local.get $pairBytes)))
            (local.set $acc0 (f64x2.add (local.get $acc0)
              (f64x2.mul (v128.load (i32.add (local.get $r) (local.get $j))) (v128.load (i32.add (local.get $x) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $cols1)))
        (f64.store (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3)))
          (call $finish (local.get $acc0) (local.get $r) (local.get $pairBytes) (local.get $odd) (local.get $xl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows1))))

  ;; A row's dot product from its accumulator: s0 + s1, then the odd last term.
  (func $finish (param $acc v128) (param $row i32) (param $pairBytes i32) (param $odd i32) (param $xl f64) (result f64)
    (local $s f64)
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc))))
    (if (result f64) (local.get $odd)
      (then (f64.add (local.get $s) (f64.mul (f64.load (i32.add (local.get $row) (local.get $pairBytes))) (local.get $xl))))
      (else (local.get $s))))

  ;; Packs the kc × nc block of B at $b (row stride $ldb bytes) into panels of
  ;; four columns: panel q holds, for p = 0..kc-1, B[p][4q .. 4q+3] (zeros past nc).
  (func $packB (param $b i32) (param $ldb i32) (param $kc i32) (param $nc i32) (param $dst i32)
    (local $q i32) (local $p i32) (local $t i32) (local $col i32) (local $src i32)
    (block $doneQ
      (loop $panels
        (br_if $doneQ (i32.ge_u (local.get $q) (local.get $nc)))
        (local.set $src (i32.add (local.get $b) (i32.shl (local.get $q) (i32.const 3))))
        (local.set $p (i32.const 0))
        (if (i32.le_u (i32.add (local.get $q) (i32.const 4)) (local.get $nc))
          (then
            (block $doneP
              (loop $depth
                (br_if $doneP (i32.ge_u (local.get $p) (local.get $kc)))
                (v128.store offset=0 (local.get $dst) (v128.load offset=0 (local.get $src)))
                (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
                (local.set $src (i32.add (local.get $src) (local.get $ldb)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $depth))))
          (else
            (block $doneE
              (loop $depthE
                (br_if $doneE (i32.ge_u (local.get $p) (local.get $kc)))
                (local.set $t (i32.const 0))
                (block $doneT
                  (loop $lane
                    (br_if $doneT (i32.ge_u (local.get $t) (i32.const 4)))
                    (local.set $col (i32.add (local.get $q) (local.get $t)))
                    (f64.store (local.get $dst)
                      (if (result f64) (i32.lt_u (local.get $col) (local.get $nc))
                        (then (f64.load (i32.add (local.get $src) (i32.shl (local.get $t) (i32.const 3)))))
                        (else (f64.const 0))))
                    (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                    (local.set $t (i32.add (local.get $t) (i32.const 1)))
                    (br $lane)))
                (local.set $src (i32.add (local.get $src) (local.get $ldb)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $depthE)))))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $panels))))

  ;; Packs the mc × kc block of A at $a (row stride $lda bytes) into panels of
  ;; four rows: panel r holds, for p = 0..kc-1, A[4r .. 4r+3][p] (zeros past mc).
  (func $packA (param $a i32) (param $lda i32) (param $mc i32) (param $kc i32) (param $dst i32)
    (local $r i32) (local $p i32) (local $t i32) (local $src i32)
    (block $doneR
      (loop $panels
        (br_if $doneR (i32.ge_u (local.get $r) (local.get $mc)))
        (local.set $p (i32.const 0))
        (block $doneP
          (loop $depth
            (br_if $doneP (i32.ge_u (local.get $p) (local.get $kc)))
            (local.set $src (i32.add (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $lda))) (i32.shl (local.get $p) (i32.const 3))))
            (local.set $t (i32.const 0))
            (block $doneT
              (loop $lane
                (br_if $doneT (i32.ge_u (local.get $t) (i32.const 4)))
                (f64.store (local.get $dst)
                  (if (result f64) (i32.lt_u (i32.add (local.get $r) (local.get $t)) (local.get $mc))
                    (then (f64.load (local.get $src)))
                    (else (f64.const 0))))
                (local.set $src (i32.add (local.get $src) (local.get $lda)))
                (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $lane)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $depth)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $panels))))

  ;; The micro-kernel: the 4 × 4 tile of C at $c (row stride $ldc bytes) +=
  ;; packed A panel ($ap, 4 rows) · packed B panel ($bp, 4 columns), depth $kc,
  ;; one term after another for every element.
  (func $micro (param $ap i32) (param $bp i32) (param $kc i32) (param $c i32) (param $ldc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128) (local $end i32) (local $row i32)
    (local.set $row (local.get $c))
    (local.set $c00 (v128.load offset=0 (local.get $row)))
    (local.set $c01 (v128.load offset=16 (local.get $row)))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (local.set $c10 (v128.load offset=0 (local.get $row)))
    (local.set $c11 (v128.load offset=16 (local.get $row)))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (local.set $c20 (v128.load offset=0 (local.get $row)))
    (local.set $c21 (v128.load offset=16 (local.get $row)))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (local.set $c30 (v128.load offset=0 (local.get $row)))
    (local.set $c31 (v128.load offset=16 (local.get $row)))
    (local.set $end (i32.add (local.get $bp) (i32.shl (local.get $kc) (i32.const 5))))
    (block $done
      (loop $depth
        (br_if $done (i32.ge_u (local.get $bp) (local.get $end)))
        (local.set $b0 (v128.load offset=0 (local.get $bp)))
        (local.set $b1 (v128.load offset=16 (local.get $bp)))
        (local.set $av (v128.load64_splat offset=0 (local.get $ap)))
        (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $av) (local.get $b0))))
        (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load64_splat offset=8 (local.get $ap)))
        (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $av) (local.get $b0))))
        (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load64_splat offset=16 (local.get $ap)))
        (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $av) (local.get $b0))))
        (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $av) (local.get $b1))))
        (local.set $av (v128.load64_splat offset=24 (local.get $ap)))
        (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $av) (local.get $b0))))
        (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $av) (local.get $b1))))
        (local.set $ap (i32.add (local.get $ap) (i32.const 32)))
        (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
        (br $depth)))
    (local.set $row (local.get $c))
    (v128.store offset=0 (local.get $row) (local.get $c00))
    (v128.store offset=16 (local.get $row) (local.get $c01))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (v128.store offset=0 (local.get $row) (local.get $c10))
    (v128.store offset=16 (local.get $row) (local.get $c11))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (v128.store offset=0 (local.get $row) (local.get $c20))
    (v128.store offset=16 (local.get $row) (local.get $c21))
    (local.set $row (i32.add (local.get $row) (local.get $ldc)))
    (v128.store offset=0 (local.get $row) (local.get $c30))
    (v128.store offset=16 (local.get $row) (local.get $c31)))

  ;; Copies the mr × nr corner of a tile between C ($c, stride $ldc) and the
  ;; 4 × 4 edge tile ($tile, stride 32): $in = 1 copies C into the tile (the
  ;; rest of the tile zeroed first), $in = 0 copies the tile back into C.
  (func $edge (param $c i32) (param $ldc i32) (param $mr i32) (param $nr i32) (param $tile i32) (param $in i32)
    (local $i i32) (local $j i32) (local $from i32) (local $to i32)
    (if (local.get $in) (then (memory.fill (local.get $tile) (i32.const 0) (i32.const 128))))
    (block $doneI
      (loop $rows
        (br_if $doneI (i32.ge_u (local.get $i) (local.get $mr)))
        (local.set $j (i32.const 0))
        (block $doneJ
          (loop $cols
            (br_if $doneJ (i32.ge_u (local.get $j) (local.get $nr)))
            (local.set $from (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))) (i32.shl (local.get $j) (i32.const 3))))
            (local.set $to (i32.add (local.get $tile) (i32.shl (i32.add (i32.shl (local.get $i) (i32.const 2)) (local.get $j)) (i32.const 3))))
            (if (local.get $in)
              (then (f64.store (local.get $to) (f64.load (local.get $from))))
              (else (f64.store (local.get $from) (f64.load (local.get $to)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $cols)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows))))

  ;; C[m × n] = A[m × k] · B[k × n]; $work: workspaceBytes of scratch.
  (func $dgemm (export "dgemm") (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $k i32) (param $n i32) (param $work i32)
    (local $pc i32) (local $jc i32) (local $ic i32) (local $ir i32) (local $jr i32)
    (local $kc i32) (local $nc i32) (local $mc i32) (local $mr i32) (local $nr i32)
    (local $lda i32) (local $ldb i32) (local $ctile i32) (local $ap i32) (local $tile i32)
    (local.set $lda (i32.shl (local.get $k) (i32.const 3)))
    (local.set $ldb (i32.shl (local.get $n) (i32.const 3)))
    (local.set $ap (i32.add (local.get $work) (global.get $A_PACK)))
    (local.set $tile (i32.add (local.get $work) (global.get $TILE)))
    (memory.fill (local.get $c) (i32.const 0) (i32.mul (i32.mul (local.get $m) (local.get $n)) (i32.const 8)))
    (block $donePC
      (loop $depthBlocks
        (br_if $donePC (i32.ge_u (local.get $pc) (local.get $k)))
        (local.set $kc (i32.sub (local.get $k) (local.get $pc)))
        (if (i32.gt_u (local.get $kc) (global.get $KC)) (then (local.set $kc (global.get $KC))))
        (local.set $jc (i32.const 0))
        (block $doneJC
          (loop $colBlocks
            (br_if $doneJC (i32.ge_u (local.get $jc) (local.get $n)))
            (local.set $nc (i32.sub (local.get $n) (local.get $jc)))
            (if (i32.gt_u (local.get $nc) (global.get $NC)) (then (local.set $nc (global.get $NC))))
            (call $packB
              (i32.add (local.get $b) (i32.add (i32.mul (local.get $pc) (local.get $ldb)) (i32.shl (local.get $jc) (i32.const 3))))
              (local.get $ldb) (local.get $kc) (local.get $nc) (local.get $work))
            (local.set $ic (i32.const 0))
            (block $doneIC
              (loop $rowBlocks
                (br_if $doneIC (i32.ge_u (local.get $ic) (local.get $m)))
                (local.set $mc (i32.sub (local.get $m) (local.get $ic)))
                (if (i32.gt_u (local.get $mc) (global.get $MC)) (then (local.set $mc (global.get $MC))))
                (call $packA
                  (i32.add (local.get $a) (i32.add (i32.mul (local.get $ic) (local.get $lda)) (i32.shl (local.get $pc) (i32.const 3))))
                  (local.get $lda) (local.get $mc) (local.get $kc) (local.get $ap))
                (local.set $jr (i32.const 0))
                (block $doneJR
                  (loop $colPanels
                    (br_if $doneJR (i32.ge_u (local.get $jr) (local.get $nc)))
                    (local.set $nr (i32.sub (local.get $nc) (local.get $jr)))
                    (if (i32.gt_u (local.get $nr) (i32.const 4)) (then (local.set $nr (i32.const 4))))
                    (local.set $ir (i32.const 0))
                    (block $doneIR
                      (loop $rowPanels
                        (br_if $doneIR (i32.ge_u (local.get $ir) (local.get $mc)))
                        (local.set $mr (i32.sub (local.get $mc) (local.get $ir)))
                        (if (i32.gt_u (local.get $mr) (i32.const 4)) (then (local.set $mr (i32.const 4))))
                        (local.set $ctile (i32.add (local.get $c)
                          (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldb)) (i32.shl (i32.add (local.get $jc) (local.get $jr)) (i32.const 3)))))
                        (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.eq (local.get $nr) (i32.const 4)))
                          (then
                            (call $micro
                              (i32.add (local.get $ap) (i32.mul (local.get $ir) (i32.shl (local.get $kc) (i32.const 3))))
                              (i32.add (local.get $work) (i32.mul (local.get $jr) (i32.shl (local.get $kc) (i32.const 3))))
                              (local.get $kc) (local.get $ctile) (local.get $ldb)))
                          (else
                            (call $edge (local.get $ctile) (local.get $ldb) (local.get $mr) (local.get $nr) (local.get $tile) (i32.const 1))
                            (call $micro
                              (i32.add (local.get $ap) (i32.mul (local.get $ir) (i32.shl (local.get $kc) (i32.const 3))))
                              (i32.add (local.get $work) (i32.mul (local.get $jr) (i32.shl (local.get $kc) (i32.const 3))))
                              (local.get $kc) (local.get $tile) (i32.const 32))
                            (call $edge (local.get $ctile) (local.get $ldb) (local.get $mr) (local.get $nr) (local.get $tile) (i32.const 0))))
                        (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
                        (br $rowPanels)))
                    (local.set $jr (i32.add (local.get $jr) (i32.const 4)))
                    (br $colPanels)))
                (local.set $ic (i32.add (local.get $ic) (local.get $mc)))
                (br $rowBlocks)))
            (local.set $jc (i32.add (local.get $jc) (local.get $nc)))
            (br $colBlocks)))
        (local.set $pc (i32.add (local.get $pc) (local.get $kc)))
        (br $depthBlocks))))
)
