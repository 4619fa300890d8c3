//! The `standby` binary: parse, run, exit.

fn main() -> std::process::ExitCode {
    standby::cli::main()
}
