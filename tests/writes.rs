//! `temper fix` never loses code, whatever happens while it writes: killed at
//! any point, out of file-size budget or disk space, files swapped for directories or links
//! or made read-only under its feet, or racing a second `temper fix`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;
use temper::check::CheckRequest;
use temper::fix::{self, FixRequest, Hooks, Mode};

const OLD: &str =
    "pub fn f(x: Option<u8>) -> Option<u8> {\n    let v = x.unwrap();\n    Some(v)\n}\n";
const NEW: &str = "pub fn f(x: Option<u8>) -> Option<u8> {\n    let v = x?;\n    Some(v)\n}\n";

fn temper() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("temper"));
    cmd.env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

fn show(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// A package whose `src/lib.rs` declares `modules` modules `m0..`, each the
/// fixable [`OLD`] padded to `pad` extra comment bytes.
fn package(modules: usize, pad: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"sample\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .expect("manifest");
    fs::create_dir(dir.path().join("src")).expect("src");
    let lib: String = (0..modules).map(|i| format!("pub mod m{i};\n")).collect();
    fs::write(dir.path().join("src/lib.rs"), lib).expect("lib.rs");
    for i in 0..modules {
        fs::write(module(dir.path(), i), padded(OLD, pad)).expect("module");
    }
    dir
}

fn module(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("src/m{i}.rs"))
}

fn padded(text: &str, pad: usize) -> String {
    format!("{text}// {}\n", "x".repeat(pad))
}

/// Temporary files of the fixer left anywhere under `dir`.
fn temps(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if entry
                .file_name()
                .to_string_lossy()
                .starts_with(".temper-fix-")
            {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn a_killed_fix_leaves_every_file_old_or_new_and_the_next_run_cleans_up() {
    const MODULES: usize = 80;
    const KILL_POINTS: u32 = 16;
    // One complete run first: how long it takes, and the expected result.
    let reference = package(MODULES, 2000);
    let started = Instant::now();
    let output = temper()
        .arg("fix")
        .current_dir(reference.path())
        .output()
        .expect("runs");
    let duration = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", show(&output));
    let new = padded(NEW, 2000);
    let old = padded(OLD, 2000);
    for i in 0..MODULES {
        assert_eq!(
            fs::read_to_string(module(reference.path(), i)).expect("reads"),
            new
        );
    }

    let (mut interrupted, mut temps_seen) = (0, 0);
    for point in 0..=KILL_POINTS {
        let dir = package(MODULES, 2000);
        let mut child = temper()
            .arg("fix")
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawns");
        std::thread::sleep(duration * point / KILL_POINTS);
        // SIGKILL on Unix: no destructor, no cleanup runs.
        let _ = child.kill();
        let _ = child.wait();
        let mut fixed = 0;
        for i in 0..MODULES {
            let now = fs::read_to_string(module(dir.path(), i)).expect("every file still reads");
            assert!(
                now == old || now == new,
                "kill point {point}: m{i}.rs is neither its old nor its new text:\n{now}"
            );
            fixed += usize::from(now == new);
        }
        interrupted += usize::from(fixed > 0 && fixed < MODULES);
        let left = temps(dir.path());
        temps_seen += left.len();

        // The next run finishes the job and removes what the killed one left.
        let again = temper()
            .arg("fix")
            .current_dir(dir.path())
            .output()
            .expect("runs");
        assert_eq!(again.status.code(), Some(0), "{}", show(&again));
        for path in &left {
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            assert!(
                text(&again.stderr).contains(&name)
                    && text(&again.stderr)
                        .contains("removed a temporary file left by an interrupted `temper fix`"),
                "{}",
                show(&again)
            );
        }
        assert!(temps(dir.path()).is_empty());
        for i in 0..MODULES {
            assert_eq!(
                fs::read_to_string(module(dir.path(), i)).expect("reads"),
                new
            );
        }
    }
    eprintln!(
        "{KILL_POINTS} kill points over {duration:?}: {interrupted} runs killed mid-way, {temps_seen} temporary files cleaned up"
    );
}

#[cfg(unix)]
#[test]
fn a_write_beyond_the_file_size_limit_fails_cleanly() {
    use std::os::unix::process::CommandExt;
    // m0 grows past 16 KiB when fixed (it is 20 KiB already: any write of it
    // fails), m1 stays small: m1 is fixed, m0 keeps its old text.
    let dir = package(2, 0);
    let big = padded(OLD, 20_000);
    fs::write(module(dir.path(), 0), &big).expect("big module");
    let mut cmd = temper();
    cmd.arg("fix").current_dir(dir.path());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 16 * 1024,
                rlim_max: 16 * 1024,
            };
            // Without ignoring SIGXFSZ the kernel kills the writer outright;
            // ignored (as a shell's `ulimit -f` users see it) the write fails
            // with EFBIG.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let output = cmd.output().expect("runs");
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(
        stderr.contains("src/m0.rs") && stderr.contains("cannot write"),
        "{}",
        show(&output)
    );
    assert_eq!(
        fs::read_to_string(module(dir.path(), 0)).expect("reads"),
        big
    );
    assert_eq!(
        fs::read_to_string(module(dir.path(), 1)).expect("reads"),
        padded(NEW, 0)
    );
    assert!(stdout.contains("fixed 1 in src/m1.rs"), "{stdout}");
    assert!(
        stdout.contains("1 fixed, 1 left: 1 file could not be written"),
        "{stdout}"
    );
    assert!(temps(dir.path()).is_empty(), "{:?}", temps(dir.path()));
}

/// Runs the fixer in-process on a one-module package, with `swap` run on the
/// file right before it would be replaced.
fn fix_with_swap(swap: &(dyn Fn(&Path) + Sync)) -> (tempfile::TempDir, fix::FixOutcome) {
    let dir = package(1, 0);
    let request = FixRequest {
        check: CheckRequest {
            paths: vec![dir.path().to_path_buf()],
            ..CheckRequest::default()
        },
        mode: Mode::Write,
        ..FixRequest::default()
    };
    let outcome = fix::run_with_hooks(
        &request,
        &Hooks {
            before_write: Some(swap),
        },
    );
    (dir, outcome)
}

fn note_for_m0(outcome: &fix::FixOutcome) -> String {
    outcome
        .notes
        .iter()
        .find(|n| n.path.ends_with("src/m0.rs"))
        .map(|n| n.message.clone())
        .unwrap_or_else(|| panic!("no note names src/m0.rs: {:?}", outcome.notes))
}

#[test]
fn a_file_replaced_by_a_directory_is_not_written() {
    let (dir, outcome) = fix_with_swap(&|path: &Path| {
        if path.ends_with("src/m0.rs") {
            fs::remove_file(path).expect("remove");
            fs::create_dir(path).expect("a directory in its place");
        }
    });
    assert_eq!(outcome.write_failures, 1);
    assert!(note_for_m0(&outcome).contains("no longer the file that was read"));
    assert!(module(dir.path(), 0).is_dir());
    assert!(temps(dir.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn a_file_replaced_by_a_symlink_is_not_written() {
    let (dir, outcome) = fix_with_swap(&|path: &Path| {
        if path.ends_with("src/m0.rs") {
            let elsewhere = path.with_file_name("elsewhere.txt");
            fs::write(&elsewhere, OLD).expect("same text elsewhere");
            fs::remove_file(path).expect("remove");
            std::os::unix::fs::symlink(&elsewhere, path).expect("symlink");
        }
    });
    assert_eq!(outcome.write_failures, 1);
    assert!(note_for_m0(&outcome).contains("no longer the file that was read"));
    assert_eq!(
        fs::read_to_string(dir.path().join("src/elsewhere.txt")).expect("reads"),
        OLD
    );
    assert!(temps(dir.path()).is_empty());
}

#[test]
fn a_file_made_read_only_meanwhile_is_not_written() {
    let (dir, outcome) = fix_with_swap(&|path: &Path| {
        if path.ends_with("src/m0.rs") {
            let mut permissions = fs::metadata(path).expect("metadata").permissions();
            permissions.set_readonly(true);
            fs::set_permissions(path, permissions).expect("chmod");
        }
    });
    assert_eq!(outcome.write_failures, 1);
    assert!(note_for_m0(&outcome).contains("read-only"));
    assert_eq!(
        fs::read_to_string(module(dir.path(), 0)).expect("reads"),
        padded(OLD, 0)
    );
    assert!(temps(dir.path()).is_empty());
}

#[test]
fn two_fixes_at_once_never_interleave() {
    const MODULES: usize = 60;
    for _ in 0..3 {
        let dir = package(MODULES, 500);
        let spawn = || {
            temper()
                .arg("fix")
                .current_dir(dir.path())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawns")
        };
        let (first, second) = (spawn(), spawn());
        for output in [
            first.wait_with_output().expect("waits"),
            second.wait_with_output().expect("waits"),
        ] {
            // Each run either wrote a file or found the other's result there
            // and said so; both end with exit 0 or 2, never a crash.
            match output.status.code() {
                Some(0) => {}
                Some(2) => assert!(
                    text(&output.stderr).contains("changed on disk"),
                    "{}",
                    show(&output)
                ),
                _ => panic!("{}", show(&output)),
            }
        }
        for i in 0..MODULES {
            assert_eq!(
                fs::read_to_string(module(dir.path(), i)).expect("reads"),
                padded(NEW, 500)
            );
        }
        assert!(temps(dir.path()).is_empty());
    }
}

/// A tmpfs of 1 MiB mounted on a fresh directory, unmounted on drop. `None`
/// where mounting is not permitted (not root, or no `CAP_SYS_ADMIN`).
struct SmallFs {
    dir: tempfile::TempDir,
}

impl SmallFs {
    fn mount() -> Option<SmallFs> {
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(SmallFs { dir })
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Fills the file system holding `dir` with `dir/filler`, then frees
/// `leave` bytes of it.
fn fill(dir: &Path, leave: u64) {
    use std::io::Write;
    let path = dir.join("filler");
    let mut filler = fs::File::create(&path).expect("filler");
    let chunk = vec![0u8; 4096];
    while filler.write_all(&chunk).is_ok() {}
    let _ = filler.flush();
    let len = fs::metadata(&path).expect("filler").len();
    filler
        .set_len(len.saturating_sub(leave))
        .expect("free space");
}

#[test]
fn a_fix_on_a_full_disk_leaves_every_file_old_or_new() {
    // A real ENOSPC, on a 1 MiB tmpfs (as root, which is how CI runs; where
    // mounting is not permitted the test fails under CI=true, and elsewhere
    // says so and stops, and
    // `a_write_beyond_the_file_size_limit_fails_cleanly` covers a failed
    // write with RLIMIT_FSIZE).
    let Some(small) = SmallFs::mount() else {
        // CI runs as root and must run this test: there it fails instead.
        let in_ci =
            std::env::var_os("CI").is_some_and(|ci| !ci.is_empty() && ci != "false" && ci != "0");
        assert!(
            !in_ci,
            "cannot mount a tmpfs under CI=true (needs root / CAP_SYS_ADMIN)"
        );
        eprintln!("skipped: cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)");
        return;
    };
    let root = small.dir.path().join("sample");
    let built = package(2, 0);
    fs::create_dir_all(root.join("src")).expect("src");
    for file in ["Cargo.toml", "src/lib.rs", "src/m1.rs"] {
        fs::copy(built.path().join(file), root.join(file)).expect("copy");
    }
    // m0 needs ten pages for its new text, m1 one: with three pages free, m1
    // is written and m0 fails with ENOSPC.
    let big = padded(OLD, 40_000);
    fs::write(root.join("src/m0.rs"), &big).expect("big module");
    fill(small.dir.path(), 3 * 4096);

    let output = temper()
        .arg("fix")
        .current_dir(&root)
        .output()
        .expect("runs");
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert!(
        stderr.contains("src/m0.rs")
            && stderr.contains("cannot write")
            && stderr.contains("No space left on device (os error 28); the file is unchanged"),
        "{}",
        show(&output)
    );
    assert_eq!(fs::read_to_string(root.join("src/m0.rs")).expect("m0"), big);
    assert_eq!(
        fs::read_to_string(root.join("src/m1.rs")).expect("m1"),
        padded(NEW, 0)
    );
    assert!(stdout.contains("fixed 1 in src/m1.rs"), "{stdout}");
    assert!(
        stdout.contains("1 fixed, 1 left: 1 file could not be written"),
        "{stdout}"
    );
    assert!(temps(&root).is_empty(), "{:?}", temps(&root));

    // Completely full: nothing can be written, nothing is lost.
    fill(small.dir.path(), 0);
    let output = temper()
        .arg("fix")
        .current_dir(&root)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2), "{}", show(&output));
    assert_eq!(fs::read_to_string(root.join("src/m0.rs")).expect("m0"), big);
    assert!(temps(&root).is_empty(), "{:?}", temps(&root));
}
