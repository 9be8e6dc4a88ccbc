//! Documents generated from the clap definitions: shell completion scripts and the man page.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::{self, Write};

/// The completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut Cli::command(), "mfacheck", out);
}

/// The man page in roff: mfacheck(1), or mfacheck-SUBCOMMAND(1), which mfacheck(1) refers to.
pub fn man_page(subcommand: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let mut cli = Cli::command();
    cli.build();
    let page = match subcommand {
        None => cli,
        Some(name) => {
            let sub = cli.find_subcommand(name).ok_or_else(|| io::Error::other(format!("no subcommand {name}")))?;
            sub.clone()
                .display_name(format!("mfacheck-{name}"))
                .bin_name(format!("mfacheck {name}"))
                .version(env!("CARGO_PKG_VERSION"))
        }
    };
    clap_mangen::Man::new(page).render(out)
}
