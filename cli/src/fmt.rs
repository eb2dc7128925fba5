//! `reward fmt`: rewrite specs in the canonical layout, or check that they are.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use reward::MAX_SPEC_BYTES;

/// Formats every spec named (a directory stands for the `.reward` files under it); `-` formats
/// standard input to standard output. With `check`, nothing is written: the files that are not
/// formatted are listed and the status is 1.
pub fn run(paths: &[PathBuf], check: bool) -> ExitCode {
    let mut ok = true;
    for path in paths {
        if path.as_os_str() == "-" {
            ok &= stdin(check);
            continue;
        }
        let files = match spec_files(path) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                ok = false;
                continue;
            }
        };
        for file in files {
            ok &= one_file(&file, check);
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn stdin(check: bool) -> bool {
    let mut text = String::new();
    if let Err(e) = io::stdin()
        .take(MAX_SPEC_BYTES + 1)
        .read_to_string(&mut text)
    {
        eprintln!("error: standard input: {e}");
        return false;
    }
    if text.len() as u64 > MAX_SPEC_BYTES {
        eprintln!("error: standard input: a spec is at most {MAX_SPEC_BYTES} bytes");
        return false;
    }
    match reward::format("<stdin>", &text) {
        Ok(formatted) if check => {
            if formatted != text {
                println!("<stdin>: not formatted");
            }
            formatted == text
        }
        Ok(formatted) => {
            crate::write_out(&formatted);
            true
        }
        Err(diags) => {
            eprint!("{diags}");
            false
        }
    }
}

fn one_file(file: &Path, check: bool) -> bool {
    let text = match reward::read_spec(file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {e}");
            return false;
        }
    };
    let formatted = match reward::format(&file.display().to_string(), &text) {
        Ok(formatted) => formatted,
        Err(diags) => {
            eprint!("{diags}");
            return false;
        }
    };
    if formatted == text {
        return true;
    }
    if check {
        crate::write_out(&format!("{}: not formatted\n", file.display()));
        return false;
    }
    // Written beside the file and renamed over it, so an interrupted run leaves either the old
    // spec or the new one, never half of one.
    let temporary = file.with_extension("reward.fmt-tmp");
    let written =
        std::fs::write(&temporary, &formatted).and_then(|()| std::fs::rename(&temporary, file));
    match written {
        Ok(()) => {
            eprintln!("formatted {}", file.display());
            true
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            eprintln!("error: {}: cannot write: {e}", file.display());
            false
        }
    }
}

/// The file itself, or the `.reward` files under a directory, sorted.
fn spec_files(path: &Path) -> io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "reward") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
