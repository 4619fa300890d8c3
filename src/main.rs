//! The `standby` binary: parse, run, exit.

/// mimalloc rather than the system allocator: the mock server's state is
/// millions of small allocations. Measured side by side (`cargo bench
/// --bench mock`): a SCIM page at 1,000,000 objects 35.7 µs against 55.0 µs,
/// the mock mix at 10,000 objects 103.9k requests/s against 90.2k, and the
/// loaded state 813 MB against 1,311 MB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    standby::cli::main()
}
