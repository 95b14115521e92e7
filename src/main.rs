//! The `tonghop` program: parses arguments and calls into the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(tonghop::cli::main())
}
