//! The stored credentials: read from a file or stdin within a bound (never from the command line,
//! which other users see and shells keep), and the rotated refresh token written back
//! atomically: a new file in the same directory (mode 0600, created exclusively, never through a
//! link), synced, renamed over the old one. A symbolic link at the path, and a directory where no
//! file can be made, are refused before any request; the rename replaces a link planted later
//! itself: a link is never followed to write elsewhere (a link to the directory is: it is the
//! user's path).

use super::secret::Secret;
use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A stored credential is given up on past this size (refresh tokens are a few KiB).
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// Reads a credential from `reader`: trimmed, not empty, at most [`MAX_SECRET_BYTES`].
pub fn read(reader: impl Read, what: &str) -> Result<Secret> {
    let mut bytes = Vec::new();
    reader.take(MAX_SECRET_BYTES + 1).read_to_end(&mut bytes).with_context(|| format!("cannot read {what}"))?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        bail!("{what}: larger than {MAX_SECRET_BYTES} bytes");
    }
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{what}: not UTF-8 text"))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        bail!("{what}: empty");
    }
    Ok(Secret::new(trimmed.to_owned()))
}

/// Reads a credential from the file at `path`.
pub fn read_file(path: &Path, option: &str) -> Result<Secret> {
    let file = std::fs::File::open(path).with_context(|| match credential_like(path) {
        // `--client-secret-file "$SECRET"`: the credential itself where its file belongs.
        true => format!("cannot open {option}: no such file (its name is not shown: it looks like a credential)"),
        false => format!("cannot open {option} {}", crate::error::path_name(path)),
    })?;
    read(file, &format!("{option} {}", crate::error::path_name(path)))
}

/// A name that may be a credential rather than a path: no directory, at least 16 characters, and
/// three kinds of characters (upper, lower, digit, `~._-`), as secrets and refresh tokens have.
fn credential_like(path: &Path) -> bool {
    let name = path.to_string_lossy();
    let kinds = [
        name.chars().any(|c| c.is_ascii_uppercase()),
        name.chars().any(|c| c.is_ascii_lowercase()),
        name.chars().any(|c| c.is_ascii_digit()),
        name.chars().any(|c| matches!(c, '~' | '.' | '_' | '-')),
    ];
    !name.contains(['/', '\\']) && name.chars().count() >= 16 && kinds.iter().filter(|k| **k).count() >= 3
}

/// `--write-back` is refused, before anything is sent, for a path that is a symbolic link (it
/// would be replaced by a file, not followed: say so rather than surprise) or in a directory where
/// no file can be made.
pub fn check_writable(path: &Path) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("--refresh-token-file {}", crate::error::path_name(path)))?;
    if meta.file_type().is_symlink() {
        bail!(
            "--write-back: --refresh-token-file {} is a symbolic link; it is never followed: give the real file's path",
            crate::error::path_name(path)
        );
    }
    if !meta.is_file() {
        bail!("--write-back: --refresh-token-file {} is not a regular file", crate::error::path_name(path));
    }
    // The new file is made beside the old one: where none can be made, say so before the refresh
    // token is sent (rather than after Entra has rotated it).
    let probe = temp_path(path)?;
    create_private(&probe).with_context(|| {
        format!("--write-back: cannot make a file beside --refresh-token-file {}", crate::error::path_name(path))
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A new, unguessable name beside `path`.
fn temp_path(path: &Path) -> Result<PathBuf> {
    let name = crate::error::path_name(path);
    let file_name = path.file_name().with_context(|| format!("--write-back {name}: not a file path"))?;
    let mut random = [0u8; 8];
    aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut random)
        .map_err(|_| anyhow::anyhow!("--write-back: no randomness for the temporary name"))?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(dir(path).join(format!(".{}.mfacheck-{suffix}.tmp", file_name.to_string_lossy())))
}

fn dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Replaces the file at `path` by one holding `secret` (and a newline), atomically.
pub fn write_back(path: &Path, secret: &Secret) -> Result<()> {
    let name = crate::error::path_name(path);
    let (dir, temp) = (dir(path), temp_path(path)?);
    let written = (|| -> std::io::Result<()> {
        let mut file = create_private(&temp)?;
        file.write_all(secret.expose().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        // rename(2) replaces a link at `path` itself; it never writes through it.
        std::fs::rename(&temp, path)?;
        sync_dir(dir)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        bail!("--write-back {name}: cannot replace the file: {e} (the rotated refresh token was not stored)");
    }
    Ok(())
}

/// A new file, readable by its owner only, that must not exist (no link followed).
#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_NOFOLLOW).open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

/// The rename is durable once the directory is synced.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
