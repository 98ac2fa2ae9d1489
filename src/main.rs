//! The `kefu` binary: all the work is in the library (`kefu::cli`).

fn main() -> std::process::ExitCode {
    // Like other Unix tools, stop quietly when the reader of our output goes
    // away (`kefu check | head`) instead of panicking on a broken pipe.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE before any other
    // thread exists; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    kefu::cli::main()
}
