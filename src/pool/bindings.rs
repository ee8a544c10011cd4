//! Host bindings for the `temper:extractor` world, generated from
//! `wit/extractor.wit` so the host and the guest share one definition.

wasmtime::component::bindgen!({
    path: "wit/extractor.wit",
    world: "extractor",
    // Calls go through `call_async` so a long call can yield to the executor
    // at every epoch tick instead of blocking its thread until the timeout.
    exports: { default: async },
});
