//! Where analysis runs: on threads whose stacks hold the deepest syntax tree
//! temper accepts ([`temper_lints::lex::MAX_NESTING`]), so a file within the
//! limit can never abort the process with a stack overflow.

/// Stack of every thread that parses, lints or fixes.
///
/// The parsers (`ra_ap_syntax`, `syn`) and the lints' walks recurse once or
/// a few times per level of the tree: `ra_ap_syntax` alone overflowed 8 MiB
/// at about 10,000 levels. `tests/limits.rs` checks and fixes files at the
/// limit, nested ten different ways, on these stacks in a debug build. Only
/// touched pages are ever committed, so a large reservation costs address
/// space, not memory.
pub const STACK_SIZE: usize = 256 << 20;

/// Builds rayon's global pool with [`STACK_SIZE`] stacks and `threads`
/// workers (one per core when `None`). The first call wins; later ones
/// (every check calls it, the CLI first with `-j`) change nothing.
pub fn init_pool(threads: Option<usize>) {
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(STACK_SIZE);
    if let Some(threads) = threads {
        builder = builder.num_threads(threads.max(1));
    }
    // Fails only when the global pool exists already, which is the case this
    // call is meant to leave alone.
    let _ = builder.build_global();
}

/// Runs `work` on a thread with a [`STACK_SIZE`] stack and returns its
/// result; a panic in `work` is resumed on the caller's thread. If no thread
/// can be started, `work` runs on the caller's own.
pub fn with_stack<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    init_pool(None);
    let mut work = Some(work);
    let result = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("temper-analysis".to_string())
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, || work.take().map(|work| work()));
        match spawned.map(|handle| handle.join()) {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => None,
        }
    });
    match (result, work.take()) {
        (Some(result), _) => result,
        (None, Some(work)) => work(),
        // The spawned thread took `work` and so returned its result.
        (None, None) => unreachable!("analysis work taken but not run"),
    }
}
