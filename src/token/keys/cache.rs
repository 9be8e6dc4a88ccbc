//! The disk cache of Microsoft's key sets (`--verify`): what a later run, or `--offline`, trusts
//! to verify signatures, so it is guarded like a key file.
//!
//! It lives in a directory of the user's own: created `0700`, refused when it is a symbolic link,
//! belongs to another user or others may write to it (they could plant keys). An entry is opened
//! without following a symbolic link and without blocking (a FIFO), must be a regular file of the
//! user's, is read within the 1 MiB of a key file, and is written to a new file (`O_EXCL`,
//! `O_NOFOLLOW`) renamed over the old, so a planted link is never followed and a reader never
//! sees half a set. An entry dated in the future is stale. The caller validates the bytes as a
//! key set, like a fetched one.

use super::parse::MAX_KEY_FILE_BYTES;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One directory of cached key sets.
#[derive(Debug)]
pub struct KeyCache {
    dir: PathBuf,
}

/// What the cache holds for one name.
#[derive(Debug)]
pub enum Cached {
    Missing,
    /// The entry, and how long it stays fresh (`None`: stale).
    Found {
        bytes: Vec<u8>,
        fresh_for: Option<Duration>,
    },
    /// An entry (or directory) that cannot or may not be read: the whole message.
    Unreadable(String),
}

impl KeyCache {
    /// The cache of the keys of Microsoft's hosts, `…/mfacheck/keys` in the platform cache
    /// directory; with `base` (a base URL standing in for Microsoft's hosts), a directory of that
    /// base's own, `…/mfacheck/keys-{host}_{port}-{hash}`: keys from elsewhere never reach the
    /// cache real hosts' keys are read from.
    pub fn new(base: Option<&str>) -> Option<KeyCache> {
        let name = match base {
            None => "keys".to_owned(),
            Some(base) => {
                let readable: String = base
                    .trim_start_matches("http://")
                    .chars()
                    .take(64)
                    .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') { c } else { '_' })
                    .collect();
                // Two bases that read alike still get directories of their own.
                let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, base.as_bytes());
                let hex: String = hash.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect();
                format!("keys-{readable}-{hex}")
            }
        };
        platform_cache_dir().map(|root| KeyCache { dir: root.join("mfacheck").join(name) })
    }

    /// Where the entry `name` is (or would be), for messages.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The entry `name`, fresh for `ttl` after it was written.
    pub fn read(&self, name: &str, ttl: Duration) -> Cached {
        let path = self.path(name);
        let unreadable =
            |why: String| Cached::Unreadable(format!("cannot read the cached keys at {}: {why}", path.display()));
        for dir in self.dirs() {
            match trusted_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Cached::Missing,
                Err(e) => return unreadable(describe(&e)),
            }
        }
        let file = match open_entry(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Cached::Missing,
            Err(e) => return unreadable(describe(&e)),
        };
        match read_entry(file, ttl) {
            Ok(found) => found,
            Err(e) => unreadable(describe(&e)),
        }
    }

    /// Replaces the entry `name` by `bytes`, creating the directory (`0700`) when needed.
    pub fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        for dir in self.dirs() {
            match private_dir_builder().create(dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => trusted_dir(dir)?,
            }
        }
        let path = self.path(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut file = match create_new(&tmp) {
            // Left by a run of the same process id that died, or planted: removing it removes the
            // link, not what it points to; the second try fails rather than follow anything.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                std::fs::remove_file(&tmp)?;
                create_new(&tmp)?
            }
            other => other?,
        };
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        drop(file);
        // rename replaces a link at `path` itself, never the file it points to.
        let renamed = written.and_then(|()| std::fs::rename(&tmp, &path));
        if renamed.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        renamed
    }

    /// `…/mfacheck` and the cache directory in it: both must be the user's own.
    fn dirs(&self) -> [&Path; 2] {
        [self.dir.parent().unwrap_or(&self.dir), &self.dir]
    }
}

/// Says what is wrong in words (`permission denied`), not as an OS error number.
fn describe(e: &io::Error) -> String {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return "it is a symbolic link, which is never followed".to_owned();
    }
    match e.kind() {
        io::ErrorKind::Other => e.to_string(),
        kind => kind.to_string(),
    }
}

fn refused(why: String) -> io::Error {
    io::Error::other(why)
}

/// The directory exists, is no symbolic link, and (on Unix) is the user's own and writable by
/// nobody else.
fn trusted_dir(dir: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Err(refused(format!("{} is a symbolic link, which is never followed", dir.display())));
    }
    if !meta.is_dir() {
        return Err(refused(format!("{} is not a directory", dir.display())));
    }
    owned_privately(&meta, dir)
}

/// Owned by the user running mfacheck, and writable by nobody else.
#[cfg(unix)]
fn owned_privately(meta: &std::fs::Metadata, path: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        return Err(refused(format!("{} belongs to another user (uid {}): refused", path.display(), meta.uid())));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(refused(format!(
            "{} may be written by other users (mode {:o}): refused",
            path.display(),
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn owned_privately(_: &std::fs::Metadata, _: &Path) -> io::Result<()> {
    Ok(())
}

fn private_dir_builder() -> std::fs::DirBuilder {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
}

/// Opens an entry for reading: a symbolic link fails (`ELOOP`), a FIFO does not block.
fn open_entry(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW | libc::O_NONBLOCK);
    options.open(path)
}

/// Creates a file that did not exist: never follows a link, never opens another's file.
fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// A regular file of the user's, at most [`MAX_KEY_FILE_BYTES`]; fresh for what is left of `ttl`.
fn read_entry(file: File, ttl: Duration) -> io::Result<Cached> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(refused("it is not a regular file".to_owned()));
    }
    owned_privately(&meta, Path::new("the file"))?;
    // A date in the future (a clock set back, or a planted file) is no reason to trust it longer.
    let fresh_for = meta.modified()?.elapsed().ok().and_then(|age| ttl.checked_sub(age)).filter(|left| !left.is_zero());
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(refused("it is larger than 1 MiB: not a key set".to_owned()));
    }
    Ok(Cached::Found { bytes, fresh_for })
}

/// The platform cache directory: `$XDG_CACHE_HOME` or `~/.cache` (Linux and other Unix),
/// `~/Library/Caches` (macOS), `%LOCALAPPDATA%` (Windows).
fn platform_cache_dir() -> Option<PathBuf> {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if cfg!(windows) {
        env("LOCALAPPDATA")
    } else if let Some(xdg) = env("XDG_CACHE_HOME") {
        Some(xdg)
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|home| home.join("Library/Caches"))
    } else {
        env("HOME").map(|home| home.join(".cache"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn cache_in(root: &Path, name: &str) -> KeyCache {
        KeyCache { dir: root.join("mfacheck").join(name) }
    }

    #[test]
    fn written_entries_are_read_back_fresh() {
        let root = tempfile::tempdir().unwrap();
        let cache = cache_in(root.path(), "keys");
        assert!(matches!(cache.read("a.json", DAY), Cached::Missing));
        cache.write("a.json", b"{}").unwrap();
        match cache.read("a.json", DAY) {
            Cached::Found { bytes, fresh_for } => {
                assert_eq!(bytes, b"{}");
                assert!(fresh_for.is_some_and(|left| left > DAY - Duration::from_secs(60)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_directories_are_created_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        cache_in(root.path(), "keys").write("a.json", b"{}").unwrap();
        for dir in ["mfacheck", "mfacheck/keys"] {
            let mode = std::fs::metadata(root.path().join(dir)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{dir}");
        }
        let mode = std::fs::metadata(root.path().join("mfacheck/keys/a.json")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the entry is the user's alone");
    }

    /// The temporary file's name is known in advance (the process id): a link planted there
    /// must not be followed to overwrite its target.
    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_temporary_path_is_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let cache = cache_in(root.path(), "keys");
        cache.write("a.json", b"old").unwrap();
        let victim = root.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        let tmp = cache.dir.join(format!(".a.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        cache.write("a.json", b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert_eq!(std::fs::read(cache.path("a.json")).unwrap(), b"new");
        assert!(!tmp.exists(), "the planted link is gone, not reused");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_entry_is_replaced_not_followed() {
        let root = tempfile::tempdir().unwrap();
        let cache = cache_in(root.path(), "keys");
        cache.write("other.json", b"x").unwrap();
        let victim = root.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        std::os::unix::fs::symlink(&victim, cache.path("a.json")).unwrap();
        match cache.read("a.json", DAY) {
            Cached::Unreadable(why) => assert!(why.contains("symbolic link"), "{why}"),
            other => panic!("a link is read: {other:?}"),
        }
        cache.write("a.json", b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(cache.path("a.json")).unwrap().file_type().is_symlink());
    }

    #[test]
    fn bases_get_directories_of_their_own() {
        let (a, b) = (KeyCache::new(Some("http://127.0.0.1:80/a_b")), KeyCache::new(Some("http://127.0.0.1:80/a/b")));
        let (Some(a), Some(b), Some(hosts)) = (a, b, KeyCache::new(None)) else { return };
        assert_ne!(a.dir, b.dir);
        assert_ne!(a.dir, hosts.dir);
        assert!(a.dir.file_name().unwrap().to_str().unwrap().starts_with("keys-127.0.0.1_80_a_b-"));
    }
}
