//! The `kefu` binary: all the work is in the library (`kefu::cli`).

fn main() -> std::process::ExitCode {
    kefu::cli::main()
}
