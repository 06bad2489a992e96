//! The `shale` binary: parse arguments, resolve settings, run one command, render, exit.

mod args;
mod commands;
mod dotenv;
mod error;
mod output;
mod settings;

fn main() {
    // One malloc arena for the whole process: glibc otherwise gives each thread that allocates
    // (the directory reader, the runtime) a heap of its own, which a short-lived command never
    // reuses, so each adds its high-water mark to the resident memory.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    let cli = args::Cli::parse_args();
    output::set_log_json(cli.global.log_json());
    let json = cli.global.json;
    let changes_database = cli.command.changes_database();
    let undone = cli.command.undone_on_refusal();
    // Piped into `head`, a command that only reads stops quietly, like other command-line tools.
    // One that changes the database runs to its end, its output dropped once nobody reads it:
    // ended between two migrations by a reader gone away, it would leave the run half done.
    // (`adopt` records in one transaction and prints after: ended at any point, it recorded all
    // or nothing; re-check: `shale adopt | head -2` panicked on the closed pipe after recording.)
    #[cfg(unix)]
    if !changes_database || cli.command.dry_run() || matches!(cli.command, args::Command::Adopt(_)) {
        // SAFETY: no other thread exists yet.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let result = settings::Settings::resolve(&cli.global).and_then(|settings| {
        if !settings.quiet {
            for deprecation in &settings.deprecations {
                output::warning(deprecation);
            }
        }
        commands::run(cli.command, &settings)
    });
    match result {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            if json {
                println!("{}", error::to_json(&error));
            } else if !output::log_error(&error) {
                error::render(&error, undone);
            }
            std::process::exit(error::exit_code(&error));
        }
    }
}
