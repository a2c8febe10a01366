# workerd config of the simdformer example worker; `node build.mjs` fills out/ next to it.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .simdformerWorker),
    # Model files, read by the worker through its ASSETS binding (a real deployment would
    # use its platform's static assets, R2 or KV the same way).
    (name = "assets", disk = (path = "out/assets", writable = false)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const simdformerWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "out/worker.js"),
    # The wasm builds as module bindings: isolates may not compile wasm at run time.
    (name = "simdformer.relaxed.wasm", wasm = embed "out/simdformer.relaxed.wasm"),
    (name = "simdformer.simd.wasm", wasm = embed "out/simdformer.simd.wasm"),
  ],
  bindings = [(name = "ASSETS", service = "assets")],
  compatibilityDate = "2025-09-01",
);
