//! Command line entry point; all work happens in the library.

fn main() -> std::process::ExitCode {
    gonghui::cli::main()
}
