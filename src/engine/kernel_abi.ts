// Typed signatures of the wasm exports: the kernel ABI of assembly/index.ts and its
// scalar twin assembly/ref/index.ts. Sizes first, then pointers (byte offsets into the
// one memory, 16-byte aligned unless said) and strides (in elements), then parameters.
// A pointer argument of 0 means "absent" where documented. It lives in engine/, below
// kernels/, because the engine dispatches and plans record calls by these names.

/** The wasm exports of every build, with the kernel ABI's types. */
export interface KernelExports {
  /** Bit flags: 1 SIMD, 2 relaxed SIMD, 4 threads. */
  build_info(): number;

  // --- elementwise (f32_vec.ts)
  /** out[i] = a[i] + b[i]; out may alias a or b. */
  f32_add(n: number, a: number, b: number, out: number): void;
  /** Dot product of two f32 vectors. */
  f32_dot(n: number, a: number, b: number): number;
  /** dst row r = src row r, n floats each (row strides lds, ldd); rows must not overlap, any alignment. */
  f32_copy_rows(rows: number, n: number, src: number, lds: number, dst: number, ldd: number): void;

  // --- GEMM / GEMV (f32_gemm.ts, f32_gemv.ts, pack.ts)
  /** Width in columns of one packed panel of B. */
  f32_gemm_nr(): number;
  /** Floats needed to hold a K x N matrix packed for f32_gemm / f32_gemv (panels zero-padded). */
  f32_gemm_packed_size(k: number, n: number): number;
  /**
   * Packs B (K x N, row stride ldb) into column panels of width NR, each K x NR contiguous.
   * A column range starting at a multiple of NR is itself a packed matrix at float offset j0*K,
   * so threads can split N by panels.
   */
  f32_gemm_pack_b(k: number, n: number, b: number, ldb: number, packed: number): void;
  /** Same layout from B transposed (N x K, row stride ldbt): a torch Linear weight [out, in]. */
  f32_gemm_pack_bt(k: number, n: number, bt: number, ldbt: number, packed: number): void;
  /** C (M x N) = act(A (M x K) . B + bias) [+ C if GEMM_ACCUMULATE]; bias (N floats) 0 = none. */
  f32_gemm(m: number, n: number, k: number, a: number, lda: number, packedB: number, c: number, ldc: number, bias: number, flags: number): void;
  /** y (N) = act(x (K) . B + bias) [+ y]: the decode (one token) case on the same packed B. */
  f32_gemv(n: number, k: number, x: number, packedB: number, y: number, bias: number, flags: number): void;
  /** C (M x N) = alpha . A (M x K) . B^T, B unpacked N x K (attention scores Q.K^T). */
  f32_gemm_nt(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number, alpha: number): void;
  /** C (M x N) = A (M x K) . B (K x N), both unpacked (attention P.V). */
  f32_gemm_nn(m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number): void;

  // --- softmax (f32_softmax.ts)
  /**
   * Row softmax of scale*x + mask. mask: additive (0 / -inf), rows x n with stride ldm
   * (ldm 0 broadcasts one row), 0 = none. causal >= 0: row r keeps only columns c <= r + causal.
   * A row with every column masked yields zeros. out may alias x.
   */
  f32_softmax(rows: number, n: number, x: number, ldx: number, out: number, ldo: number, scale: number, mask: number, ldm: number, causal: number): void;
  /** Row log-softmax (for scoring); out may alias x. */
  f32_log_softmax(rows: number, n: number, x: number, ldx: number, out: number, ldo: number): void;

  // --- norms (f32_layernorm.ts, f32_rmsnorm.ts)
  /** out = (x - mean) / sqrt(var + eps) * gamma + beta per row; beta 0 = none; out may alias x. */
  f32_layernorm(rows: number, n: number, x: number, ldx: number, gamma: number, beta: number, out: number, ldo: number, eps: number): void;
  /** out = x / sqrt(mean(x^2) + eps) * gamma per row; out may alias x. */
  f32_rmsnorm(rows: number, n: number, x: number, ldx: number, gamma: number, out: number, ldo: number, eps: number): void;

  // --- activations (f32_act.ts); out may alias the input
  f32_relu(n: number, x: number, out: number): void;
  /** GELU, erf form (BERT, torch default). */
  f32_gelu(n: number, x: number, out: number): void;
  /** GELU, tanh approximation (GPT-2). */
  f32_gelu_tanh(n: number, x: number, out: number): void;
  f32_silu(n: number, x: number, out: number): void;
  /** out = silu(gate) * up (SwiGLU). */
  f32_swiglu(n: number, gate: number, up: number, out: number): void;
  /** out = gelu_tanh(gate) * up (GeGLU, Gemma). */
  f32_geglu(n: number, gate: number, up: number, out: number): void;
  /** f32_geglu with ggml's f16-table GELU (ACT_GELU_F16). */
  f32_geglu_f16(n: number, gate: number, up: number, out: number): void;
  /** out = cap tanh(scale x / cap), cap > 0 (Gemma 2 soft-capping). */
  f32_softcap(n: number, x: number, out: number, scale: number, cap: number): void;

  // --- positions and embeddings (f32_rope.ts, f32_embed.ts)
  /** out[r] = the classic sin/cos encoding of position pos0 + r (sin on even dims, cos on odd). */
  f32_sinusoidal(rows: number, d: number, pos0: number, out: number, ldo: number): void;
  /**
   * Rotary embedding in place over `heads` heads of head_dim per row, row r at position pos0 + r.
   * interleaved 1: pairs (2i, 2i+1) (GPT-J, llama.cpp); 0: halves (i, i + head_dim/2) (HF Llama).
   */
  f32_rope(rows: number, heads: number, headDim: number, x: number, ldx: number, pos0: number, theta: number, interleaved: number): void;
  /** out[r] = table[ids[r]] * scale; ids are i32 already checked against the vocabulary. */
  f32_embed(rows: number, d: number, ids: number, table: number, ldt: number, out: number, ldo: number, scale: number): void;
  /** f32_embed over the table packed by f32_gemm_pack_bt (k = d, n = rows): a tied output head's panels. */
  f32_embed_packed(rows: number, d: number, ids: number, packed: number, out: number, ldo: number, scale: number): void;
  /**
   * f32_embed over a q8_0 table (rows x d, d a multiple of 32) as q8_0_repack packs it, quants and
   * scales: each gathered row dequantized, times scale (the tied output head's blocks serve both).
   */
  q8_0_embed(rows: number, d: number, ids: number, quants: number, scales: number, out: number, ldo: number, scale: number): void;
  /** q8_0_embed over a q4_0 table as q4_0_repack packs it. */
  q4_0_embed(rows: number, d: number, ids: number, quants: number, scales: number, out: number, ldo: number, scale: number): void;
  /**
   * f32_embed over a rows x d Q4_K table as GGUF stores it (d a multiple of 256; blocks at any
   * alignment): only the gathered rows are dequantized, equal to the table widened whole.
   */
  q4_k_embed(rows: number, d: number, ids: number, blocks: number, out: number, ldo: number, scale: number): void;
  /** q4_k_embed over a Q5_K table. */
  q5_k_embed(rows: number, d: number, ids: number, blocks: number, out: number, ldo: number, scale: number): void;
  /** q4_k_embed over a Q6_K table. */
  q6_k_embed(rows: number, d: number, ids: number, blocks: number, out: number, ldo: number, scale: number): void;

  // --- attention (f32_attention.ts)
  /**
   * One head: out (nq x d) = softmax(scale . q k^T + mask, causal) . v. probs (nq x nk, stride ldp)
   * is scratch the caller provides and holds the probabilities afterwards (attention capture is a copy).
   * mask/causal as in f32_softmax. Decode is nq = 1 against the cached keys.
   */
  f32_attention(
    nq: number, nk: number, d: number,
    q: number, ldq: number, k: number, ldk: number, v: number, ldv: number,
    out: number, ldo: number, probs: number, ldp: number,
    scale: number, mask: number, ldm: number, causal: number,
  ): void;

  // --- additive attention scores (f32_additive.ts)
  /**
   * scores (nq x nk, stride lds) = v^T tanh(qp_i + kp_j): the additive ("MLP", Bahdanau) score of
   * every query i against every key j. qp (nq x h, stride ldq) and kp (nk x h, stride ldk) are the
   * projections W_q q and W_k k the caller made with GEMM; v holds h floats. Masks and causal
   * limits are applied afterwards by f32_softmax.
   */
  f32_additive_scores(nq: number, nk: number, h: number, qp: number, ldq: number, kp: number, ldk: number, v: number, scores: number, lds: number): void;

  // --- quantized weights, q8_0 / q4_0 (q_pack.ts, q_gemv.ts)
  // A weight W is N x K (out x in, K a multiple of 32), quantized per block of 32 along K.
  // GGUF blocks (file layout, row-major): q8_0 = f16 d + 32 int8 (34 bytes), w = d q;
  // q4_0 = f16 d + 16 bytes, byte t = q[t] | q[t+16] << 4 (18 bytes), w = d (q - 8).
  // Packed (kernel layout, by the repacks): rows in panels of 8 (N padded with zero rows);
  // `quants` holds per panel and block the 8 rows' quant bytes back to back (256 bytes q8_0,
  // 128 q4_0), `scales` per panel and block the 8 rows' f32 scales. A row range starting at a
  // multiple of 8 is itself packed at quant byte j0*K (q8_0) or j0*K/2 (q4_0) and scale byte
  // j0*(K/32)*4: threads split N by panels. Activations are quantized per block of 32 to int8
  // (dx = max|x|/127, round to nearest even) into records of 112 bytes per block.
  /** Bytes of packed q8_0 quants for N x K. */
  q8_0_quant_bytes(n: number, k: number): number;
  /** Bytes of packed q4_0 quants for N x K. */
  q4_0_quant_bytes(n: number, k: number): number;
  /** Bytes of packed f32 scales for N x K (either type). */
  q_scale_bytes(n: number, k: number): number;
  /** Bytes of quantized activations for one row of K values. */
  q8_xq_bytes(k: number): number;
  /** GGUF q8_0 blocks (N x K, any alignment) -> quants + scales; -128 is clamped to -127. */
  q8_0_repack(n: number, k: number, blocks: number, quants: number, scales: number): void;
  /** GGUF q4_0 blocks (N x K, any alignment) -> quants + scales. */
  q4_0_repack(n: number, k: number, blocks: number, quants: number, scales: number): void;

  // --- stored weights to f32 at load (widen.ts): one pass, any alignment. The source may lie in
  // the destination's tail (src = dst + the bytes the output has over the input: 2n for halves,
  // 94 nb for q8_0, 110 nb for q4_0), which the loader uses to convert a tensor where it was read.
  /** n IEEE halves -> n floats, exact (subnormals, infinities, NaN payloads). */
  f16_widen(n: number, src: number, dst: number): void;
  /** n bfloat16 -> n floats (the top half of each float). */
  bf16_widen(n: number, src: number, dst: number): void;
  /** nb GGUF q8_0 blocks -> 32 nb floats d q (exact). */
  q8_0_dequant(nb: number, src: number, dst: number): void;
  /** nb GGUF q4_0 blocks -> 32 nb floats d (q - 8) (exact). */
  q4_0_dequant(nb: number, src: number, dst: number): void;
  /** M rows of x (K floats, row stride ldx) -> M records of q8_xq_bytes(K) at xq, back to back. */
  q8_quantize_rows(m: number, k: number, x: number, ldx: number, xq: number): void;
  /** q8_quantize_rows for the k-quant kernels (K a multiple of 256): one scale per 256 values, ggml's Q8_K rule. */
  q8k_quantize_rows(m: number, k: number, x: number, ldx: number, xq: number): void;
  /** y (N) = act(W . x + bias) [+ y]; x as quantized by q8_quantize_rows; bias 0 = none. */
  q8_0_gemv(n: number, k: number, xq: number, quants: number, scales: number, y: number, bias: number, flags: number): void;
  /** q8_0_gemv with W in q4_0. */
  q4_0_gemv(n: number, k: number, xq: number, quants: number, scales: number, y: number, bias: number, flags: number): void;
  /** C (M x N, stride ldc) = act(X . W^T + bias) [+ C]; X as M quantized rows at xq. */
  q8_0_gemm(m: number, n: number, k: number, xq: number, quants: number, scales: number, c: number, ldc: number, bias: number, flags: number): void;
  /** q8_0_gemm with W in q4_0. */
  q4_0_gemm(m: number, n: number, k: number, xq: number, quants: number, scales: number, c: number, ldc: number, bias: number, flags: number): void;

  // --- plans (plan.ts, plan_calls.ts): a forward step as a list of the kernel calls above
  /**
   * Runs the plan at `plan` (written by src/engine/plan.ts) as thread `thread` of `threads`.
   * On several threads, thread 0 opens each step with plan_begin and returns when it is done;
   * workers take the units they can claim and wait a bounded time for the next step.
   * `budget`: 1 ms parks one wait may take before returning 1 (yielded; call again to resume),
   * 0 = no limit. Returns 0 done, 2 aborted.
   */
  run_plan(plan: number, thread: number, threads: number, budget: number): number;
  /** Arguments of plan kernel id `kernel` (the order of PLAN_KERNELS), or -1 past the table. */
  plan_kernel_argc(kernel: number): number;
  /** Opens the next step of a plan on several threads; `fresh` 1 (no worker in it) also clears stop and abort. */
  plan_begin(plan: number, fresh: number): void;
  /** Makes workers leave the plan once out of units instead of waiting for its next step. */
  plan_stop(plan: number): void;
  /** Makes every thread running `plan` leave at its next wait. */
  plan_abort(plan: number): void;
  /** Clears the plan's control block for `threads` threads before its first step (no thread may be in it). */
  plan_reset(plan: number, threads: number): void;
  /** Bytes of the control block of a plan run by `threads` threads. */
  plan_control_bytes(threads: number): number;
  /**
   * y (N) = act(W . x + bias) [+ y] with W (N x K, K a multiple of 256) in Q4_K super-blocks exactly as
   * GGUF stores them (no repack; any alignment; a row range is itself a weight); x as q8k_quantize_rows made it.
   */
  q4_k_gemv(n: number, k: number, xq: number, w: number, y: number, bias: number, flags: number): void;
  /** q4_k_gemv with W in Q5_K. */
  q5_k_gemv(n: number, k: number, xq: number, w: number, y: number, bias: number, flags: number): void;
  /** q4_k_gemv with W in Q6_K. */
  q6_k_gemv(n: number, k: number, xq: number, w: number, y: number, bias: number, flags: number): void;
  /** C (M x N, stride ldc) = act(X . W^T + bias) [+ C], W in Q4_K as stored; X as M quantized rows at xq. */
  q4_k_gemm(m: number, n: number, k: number, xq: number, w: number, c: number, ldc: number, bias: number, flags: number): void;
  /** q4_k_gemm with W in Q5_K. */
  q5_k_gemm(m: number, n: number, k: number, xq: number, w: number, c: number, ldc: number, bias: number, flags: number): void;
  /** q4_k_gemm with W in Q6_K. */
  q6_k_gemm(m: number, n: number, k: number, xq: number, w: number, c: number, ldc: number, bias: number, flags: number): void;
}

/** The name of a wasm export. */
export type KernelName = keyof KernelExports;

/**
 * The argument list of export `K`: one task of Engine.runTasks. A union of names gives the union
 * of their argument lists.
 */
export type KernelArgs<K extends KernelName> = Parameters<KernelExports[K]>;
